"""Cloud Map namespaces, services and instances, and Glue databases, tables and partitions.

moto's CloudFormation skips `AWS::ServiceDiscovery::*` and `AWS::Glue::{Database,Table,
Partition}`, so a stack that registers a service or declares a data catalogue deploys without
them and any reference to them fails. These models create each one in moto's own Cloud Map and
Glue backends, so `DiscoverInstances`, `GetDatabase` and `GetTable` answer as on AWS, with
`Ref` and `Fn::GetAtt` as CloudFormation documents them. Properties CloudFormation updates in
place are updated in place (an instance keeps its id, a service its id); the others replace
the resource.
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from moto.glue.exceptions import (
    DatabaseNotFoundException,
    PartitionNotFoundException,
    TableNotFoundException,
)
from moto.glue.models import glue_backends
from moto.route53.models import route53_backends
from moto.servicediscovery.exceptions import (
    InstanceNotFound,
    NamespaceNotFound,
    ServiceNotFound,
)
from moto.servicediscovery.models import servicediscovery_backends
from moto.utilities.utils import get_partition

from localcloud.core.cloudformation import OwnedResource
from localcloud.core.service import Service

# -- Cloud Map ---------------------------------------------------------------------------------


def _cloud_map(account_id: str, region_name: str) -> Any:
    return servicediscovery_backends[account_id][region_name]


def _tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    return list(properties.get("Tags") or [])


class _Namespace(OwnedResource):
    """A Cloud Map namespace: Ref is its id; a new name (or VPC) replaces it."""

    attributes = ("Id", "Arn")
    replacing_properties: ClassVar[tuple[str, ...]] = ("Name",)

    # The backend's create method for this kind of namespace.
    create_method: ClassVar[str] = "create_http_namespace"

    @staticmethod
    def _kind_arguments(props: dict[str, Any]) -> dict[str, Any]:
        """What this kind's create method takes beyond name, description and tags."""
        return {}

    @classmethod
    def _create_namespace(cls, backend: Any, props: dict[str, Any]) -> str:
        return getattr(backend, cls.create_method)(
            name=props["Name"],
            creator_request_id=None,
            description=props.get("Description", ""),
            tags=_tags(props),
            **cls._kind_arguments(props),
        )

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> _Namespace:
        props = cloudformation_json["Properties"]
        backend = _cloud_map(account_id, region_name)
        operation_id = cls._create_namespace(backend, props)
        namespace_id = backend.get_operation(operation_id).targets["NAMESPACE"]
        return cls(namespace_id, props, region_name, account_id)

    def _namespace(self) -> Any:
        return _cloud_map(self.account, self.region).get_namespace(self.physical_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.physical_id
        if attribute_name == "Arn":
            return self._namespace().arn
        if attribute_name == "HostedZoneId" and "HostedZoneId" in self.attributes:
            return self._namespace().dns_properties["HostedZoneId"]
        return super().get_cfn_attribute(attribute_name)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        if any(
            properties.get(name) != self.properties.get(name) for name in self.replacing_properties
        ):
            return False
        self._namespace().description = properties.get("Description", "")
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _cloud_map(account_id, region_name)
        try:
            namespace = backend.get_namespace(self.physical_id)
        except NamespaceNotFound:
            return
        backend.delete_namespace(self.physical_id)
        # Cloud Map deletes the hosted zone it created for a DNS namespace; moto keeps it.
        zone_id = (namespace.dns_properties or {}).get("HostedZoneId")
        if zone_id:
            zones = route53_backends[account_id][get_partition(region_name)]
            zones.zones.pop(zone_id.replace("/hostedzone/", ""), None)


class HttpNamespace(_Namespace):
    resource_type = "AWS::ServiceDiscovery::HttpNamespace"


class PrivateDnsNamespace(_Namespace):
    resource_type = "AWS::ServiceDiscovery::PrivateDnsNamespace"
    attributes = ("Id", "Arn", "HostedZoneId")
    replacing_properties = ("Name", "Vpc")
    create_method = "create_private_dns_namespace"

    @staticmethod
    def _kind_arguments(props: dict[str, Any]) -> dict[str, Any]:
        return {"vpc": props["Vpc"], "properties": _dns_properties(props)}


class PublicDnsNamespace(_Namespace):
    resource_type = "AWS::ServiceDiscovery::PublicDnsNamespace"
    attributes = ("Id", "Arn", "HostedZoneId")
    create_method = "create_public_dns_namespace"

    @staticmethod
    def _kind_arguments(props: dict[str, Any]) -> dict[str, Any]:
        return {"properties": _dns_properties(props)}


def _dns_properties(props: dict[str, Any]) -> dict[str, Any]:
    # A copy: moto writes the hosted zone's id into what it is given.
    dns = dict((props.get("Properties") or {}).get("DnsProperties") or {})
    return {"DnsProperties": dns}


class CloudMapService(OwnedResource):
    """A Cloud Map service: Ref is its id; a new name or namespace replaces it."""

    resource_type = "AWS::ServiceDiscovery::Service"
    attributes = ("Id", "Arn", "Name")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> CloudMapService:
        props = cloudformation_json["Properties"]
        backend = _cloud_map(account_id, region_name)
        dns_config = props.get("DnsConfig")
        # The namespace may also be given inside DnsConfig, the older form CloudFormation keeps.
        namespace_id = props.get("NamespaceId") or (dns_config or {}).get("NamespaceId")
        namespace = backend.get_namespace(namespace_id)
        service_type = props.get("Type") or ("HTTP" if namespace.type == "HTTP" else "DNS_HTTP")
        service = backend.create_service(
            name=props.get("Name", resource_name),
            namespace_id=namespace_id,
            creator_request_id=None,
            description=props.get("Description", ""),
            dns_config=dns_config,
            health_check_config=props.get("HealthCheckConfig"),
            health_check_custom_config=props.get("HealthCheckCustomConfig"),
            tags=_tags(props),
            service_type=service_type,
        )
        if props.get("ServiceAttributes"):
            backend.update_service_attributes(service.id, props["ServiceAttributes"])
        return cls(service.id, props, region_name, account_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        service = _cloud_map(self.account, self.region).get_service(self.physical_id)
        if attribute_name == "Id":
            return service.id
        if attribute_name == "Arn":
            return service.arn
        if attribute_name == "Name":
            return service.name
        return super().get_cfn_attribute(attribute_name)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        replacing = ("Name", "NamespaceId", "Type", "HealthCheckCustomConfig")
        if any(properties.get(name) != self.properties.get(name) for name in replacing):
            return False
        service = _cloud_map(self.account, self.region).get_service(self.physical_id)
        service.description = properties.get("Description", "")
        service.health_check_config = properties.get("HealthCheckConfig")
        if properties.get("DnsConfig"):
            service.dns_config = properties["DnsConfig"]
        service.attributes = dict(properties.get("ServiceAttributes") or {})
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        _cloud_map(account_id, region_name).delete_service(self.physical_id)


class CloudMapInstance(OwnedResource):
    """An instance registered in a service: Ref is its id; its attributes update in place."""

    resource_type = "AWS::ServiceDiscovery::Instance"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> CloudMapInstance:
        props = cloudformation_json["Properties"]
        instance_id = props.get("InstanceId") or resource_name
        instance = cls(instance_id, props, region_name, account_id)
        instance._register(props)
        return instance

    def _register(self, props: dict[str, Any]) -> None:
        backend = _cloud_map(self.account, self.region)
        # RegisterInstance with a known id replaces that instance; moto would add a second one.
        try:
            backend.get_instance(props["ServiceId"], self.physical_id)
        except InstanceNotFound:
            pass
        else:
            backend.deregister_instance(props["ServiceId"], self.physical_id)
        attributes = {key: str(value) for key, value in props["InstanceAttributes"].items()}
        backend.register_instance(props["ServiceId"], self.physical_id, None, attributes)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        if any(
            properties.get(name) != self.properties.get(name)
            for name in ("ServiceId", "InstanceId")
        ):
            return False
        self._register(properties)
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        with contextlib.suppress(InstanceNotFound, ServiceNotFound):
            _cloud_map(account_id, region_name).deregister_instance(
                self.properties["ServiceId"], self.physical_id
            )


# -- Glue --------------------------------------------------------------------------------------


def _glue(account_id: str, region_name: str) -> Any:
    return glue_backends[account_id][region_name]


def _catalog_name(name: str) -> str:
    # Glue folds database and table names to lower case (Hive compatibility); moto keeps them.
    return name.lower()


class GlueDatabase(OwnedResource):
    """A Glue database: Ref is its name; a new name replaces it."""

    resource_type = "AWS::Glue::Database"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> GlueDatabase:
        props = cloudformation_json["Properties"]
        database_input = dict(props["DatabaseInput"])
        name = _catalog_name(database_input.get("Name") or resource_name)
        database_input["Name"] = name
        _glue(account_id, region_name).create_database(name, database_input)
        return cls(name, props, region_name, account_id)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        database_input = dict(properties["DatabaseInput"])
        name = _catalog_name(database_input.get("Name") or self.physical_id)
        if name != self.physical_id:
            return False
        database_input["Name"] = name
        _glue(self.account, self.region).update_database(name, database_input)
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        # As DeleteDatabase does, this also removes the tables still in it.
        with contextlib.suppress(DatabaseNotFoundException):
            _glue(account_id, region_name).delete_database(self.physical_id)


class GlueTable(OwnedResource):
    """A Glue table: Ref is its name; its TableInput updates in place, a new name replaces it."""

    resource_type = "AWS::Glue::Table"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> GlueTable:
        props = cloudformation_json["Properties"]
        table_input = cls._table_input(props, resource_name)
        database_name = _catalog_name(props["DatabaseName"])
        _glue(account_id, region_name).create_table(
            database_name,
            table_input["Name"],
            table_input,
            open_table_format_input=props.get("OpenTableFormatInput"),
        )
        table = cls(table_input["Name"], props, region_name, account_id)
        table.database_name = database_name
        return table

    @staticmethod
    def _table_input(props: dict[str, Any], default_name: str) -> dict[str, Any]:
        table_input = dict(props["TableInput"])
        table_input["Name"] = _catalog_name(table_input.get("Name") or default_name)
        return table_input

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        table_input = self._table_input(properties, self.physical_id)
        if (
            table_input["Name"] != self.physical_id
            or _catalog_name(properties["DatabaseName"]) != self.database_name
        ):
            return False
        _glue(self.account, self.region).update_table(
            self.database_name, table_input["Name"], table_input
        )
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        with contextlib.suppress(DatabaseNotFoundException, TableNotFoundException):
            _glue(account_id, region_name).delete_table(self.database_name, self.physical_id)


class GluePartition(OwnedResource):
    """A partition of a Glue table, identified by its values; its input updates in place."""

    resource_type = "AWS::Glue::Partition"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> GluePartition:
        props = cloudformation_json["Properties"]
        database_name = _catalog_name(props["DatabaseName"])
        table_name = _catalog_name(props["TableName"])
        partition_input = props["PartitionInput"]
        _glue(account_id, region_name).create_partition(database_name, table_name, partition_input)
        physical_id = "|".join([database_name, table_name, *partition_input["Values"]])
        return cls(physical_id, props, region_name, account_id)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        old = self.properties
        same_place = (
            all(
                _catalog_name(properties[name]) == _catalog_name(old[name])
                for name in ("DatabaseName", "TableName")
            )
            and properties["PartitionInput"]["Values"] == old["PartitionInput"]["Values"]
        )
        if not same_place:
            return False
        _glue(self.account, self.region).update_partition(
            _catalog_name(properties["DatabaseName"]),
            _catalog_name(properties["TableName"]),
            properties["PartitionInput"],
            properties["PartitionInput"]["Values"],
        )
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        with contextlib.suppress(
            DatabaseNotFoundException, TableNotFoundException, PartitionNotFoundException
        ):
            _glue(account_id, region_name).delete_partition(
                _catalog_name(self.properties["DatabaseName"]),
                _catalog_name(self.properties["TableName"]),
                self.properties["PartitionInput"]["Values"],
            )


class CloudMapAndGlue(Service):
    """Cloud Map namespaces, services and instances, and Glue databases, tables and partitions.

    Everything happens when CloudFormation creates, updates or deletes them: there is nothing
    to deliver afterwards.
    """

    NAME = "cloudmap_glue"

    MODELS = (
        HttpNamespace,
        PrivateDnsNamespace,
        PublicDnsNamespace,
        CloudMapService,
        CloudMapInstance,
        GlueDatabase,
        GlueTable,
        GluePartition,
    )
