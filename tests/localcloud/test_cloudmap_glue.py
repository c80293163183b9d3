"""Cloud Map and Glue resources from the template, readable through their own APIs.

The templates are shaped as CDK writes them for `HttpNamespace(...).create_service(...)
.register_non_ip_instance(...)`, `PublicDnsNamespace`, and `CfnDatabase` / `CfnTable` /
`CfnPartition` (a Parquet table on S3 partitioned by day).
"""

from __future__ import annotations

from typing import Any

from localcloud.core.assembly import load_assembly
from localcloud.testing import App, get_att, ref

PARQUET = "org.apache.hadoop.hive.ql.io.parquet"


def _cloud_map_app(
    *,
    attributes: dict[str, str] | None = None,
    description: str = "billing service",
    with_instance: bool = True,
) -> App:
    app = App()
    app.add("Namespace9B63B8C8", "AWS::ServiceDiscovery::HttpNamespace", {"Name": "orders.local"})
    app.add(
        "NamespaceBilling0706EB3A",
        "AWS::ServiceDiscovery::Service",
        {
            "Description": description,
            "Name": "billing",
            "NamespaceId": get_att("Namespace9B63B8C8", "Id"),
        },
    )
    if with_instance:
        app.add(
            "NamespaceBillingInstanceA1133B40",
            "AWS::ServiceDiscovery::Instance",
            {
                "InstanceAttributes": attributes or {"url": "https://billing.example"},
                "InstanceId": "StackNamespaceBillingInstance9C22C0D3",
                "ServiceId": get_att("NamespaceBilling0706EB3A", "Id"),
            },
        )
        app.output("InstanceRef", ref("NamespaceBillingInstanceA1133B40"))
    app.add(
        "PublicNsFFCF106B", "AWS::ServiceDiscovery::PublicDnsNamespace", {"Name": "example.com"}
    )
    app.output("NamespaceRef", ref("Namespace9B63B8C8"))
    app.output("NamespaceId", get_att("Namespace9B63B8C8", "Id"))
    app.output("NamespaceArn", get_att("Namespace9B63B8C8", "Arn"))
    app.output("ServiceRef", ref("NamespaceBilling0706EB3A"))
    app.output("ServiceId", get_att("NamespaceBilling0706EB3A", "Id"))
    app.output("ServiceArn", get_att("NamespaceBilling0706EB3A", "Arn"))
    app.output("ServiceName", get_att("NamespaceBilling0706EB3A", "Name"))
    app.output("PublicNamespaceId", ref("PublicNsFFCF106B"))
    app.output("PublicZoneId", get_att("PublicNsFFCF106B", "HostedZoneId"))
    return app


def _column(name: str, type_: str) -> dict[str, str]:
    return {"Name": name, "Type": type_}


def _glue_app(
    *, columns: list[dict[str, str]] | None = None, database_name: str = "orders_lake"
) -> App:
    app = App()
    app.add("Lake5F1B88EA", "AWS::S3::Bucket", {})
    app.add(
        "Db",
        "AWS::Glue::Database",
        {
            "CatalogId": ref("AWS::AccountId"),
            "DatabaseInput": {"Description": "the order lake", "Name": database_name},
        },
    )

    def location(suffix: str) -> dict[str, Any]:
        return {"Fn::Join": ["", ["s3://", ref("Lake5F1B88EA"), suffix]]}

    app.add(
        "Table",
        "AWS::Glue::Table",
        {
            "CatalogId": ref("AWS::AccountId"),
            "DatabaseName": ref("Db"),
            "TableInput": {
                "Name": "orders",
                "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
                "PartitionKeys": [_column("dt", "string")],
                "StorageDescriptor": {
                    "Columns": columns
                    or [_column("order_id", "string"), _column("amount", "double")],
                    "InputFormat": f"{PARQUET}.MapredParquetInputFormat",
                    "Location": location("/orders/"),
                    "OutputFormat": f"{PARQUET}.MapredParquetOutputFormat",
                    "SerdeInfo": {
                        "Parameters": {"serialization.format": "1"},
                        "SerializationLibrary": f"{PARQUET}.serde.ParquetHiveSerDe",
                    },
                },
                "TableType": "EXTERNAL_TABLE",
            },
        },
    )
    app.add(
        "Part",
        "AWS::Glue::Partition",
        {
            "CatalogId": ref("AWS::AccountId"),
            "DatabaseName": ref("Db"),
            "PartitionInput": {
                "StorageDescriptor": {"Location": location("/orders/dt=2026-11-27/")},
                "Values": ["2026-11-27"],
            },
            "TableName": ref("Table"),
        },
    )
    app.output("BucketName", ref("Lake5F1B88EA"))
    app.output("DatabaseRef", ref("Db"))
    app.output("TableRef", ref("Table"))
    return app


def _redeploy(cloud, app: App, directory) -> None:
    cloud.stacks = load_assembly(app.write(directory))
    cloud.deploy("Stack")


def _discover(cloud) -> list[dict[str, Any]]:
    return cloud.client("servicediscovery").discover_instances(
        NamespaceName="orders.local", ServiceName="billing"
    )["Instances"]


# -- Cloud Map ---------------------------------------------------------------------------------


def test_registered_instance_is_discovered_by_namespace_and_service_name(launch):
    # GIVEN an HTTP namespace, a service in it and an instance with custom attributes
    cloud = launch(_cloud_map_app(attributes={"url": "https://billing.example", "stage": "dev"}))

    # WHEN a client discovers the service by names
    instances = _discover(cloud)

    # THEN it gets the instance the template registered, with its attributes
    assert instances == [
        {
            "InstanceId": "StackNamespaceBillingInstance9C22C0D3",
            "NamespaceName": "orders.local",
            "ServiceName": "billing",
            "Attributes": {"url": "https://billing.example", "stage": "dev"},
            "HealthStatus": "HEALTHY",
        }
    ]


def test_cloud_map_refs_and_get_atts_resolve_as_cloudformation_documents(launch):
    cloud = launch(_cloud_map_app())
    servicediscovery = cloud.client("servicediscovery")

    outputs = cloud.outputs("Stack")

    namespace = servicediscovery.get_namespace(Id=outputs["NamespaceId"])["Namespace"]
    assert (namespace["Name"], namespace["Type"]) == ("orders.local", "HTTP")
    assert outputs["NamespaceRef"] == outputs["NamespaceId"] == namespace["Id"]
    assert outputs["NamespaceArn"] == namespace["Arn"]
    service = servicediscovery.get_service(Id=outputs["ServiceId"])["Service"]
    assert outputs["ServiceRef"] == outputs["ServiceId"] == service["Id"]
    assert outputs["ServiceArn"] == service["Arn"]
    assert outputs["ServiceName"] == service["Name"] == "billing"
    assert service["NamespaceId"] == namespace["Id"]
    assert service["Description"] == "billing service"
    assert outputs["InstanceRef"] == "StackNamespaceBillingInstance9C22C0D3"


def test_dns_namespace_gets_a_hosted_zone_named_by_its_get_att(launch):
    cloud = launch(_cloud_map_app())
    outputs = cloud.outputs("Stack")

    namespace = cloud.client("servicediscovery").get_namespace(Id=outputs["PublicNamespaceId"])

    properties = namespace["Namespace"]["Properties"]["DnsProperties"]
    assert namespace["Namespace"]["Type"] == "DNS_PUBLIC"
    assert properties["HostedZoneId"] == outputs["PublicZoneId"]
    zone = cloud.client("route53").get_hosted_zone(Id=outputs["PublicZoneId"])["HostedZone"]
    assert zone["Config"]["PrivateZone"] is False


def test_changed_instance_attributes_update_the_instance_in_place(launch, tmp_path):
    cloud = launch(_cloud_map_app(attributes={"url": "https://old.example"}))
    service_id = cloud.outputs("Stack")["ServiceId"]

    # WHEN the stack is deployed again with other attributes for the same instance
    _redeploy(cloud, _cloud_map_app(attributes={"url": "https://new.example"}), tmp_path / "v2")

    # THEN the one instance now has the new attributes, in the same service
    instances = _discover(cloud)
    assert [(i["InstanceId"], i["Attributes"]) for i in instances] == [
        ("StackNamespaceBillingInstance9C22C0D3", {"url": "https://new.example"})
    ]
    assert cloud.outputs("Stack")["ServiceId"] == service_id


def test_changed_service_description_keeps_the_service_and_its_instances(launch, tmp_path):
    cloud = launch(_cloud_map_app(description="billing service"))
    service_id = cloud.outputs("Stack")["ServiceId"]

    _redeploy(cloud, _cloud_map_app(description="invoices and refunds"), tmp_path / "v2")

    service = cloud.client("servicediscovery").get_service(Id=service_id)["Service"]
    assert service["Description"] == "invoices and refunds"
    assert len(_discover(cloud)) == 1


def test_instance_removed_from_the_template_is_deregistered(launch, tmp_path):
    cloud = launch(_cloud_map_app())

    _redeploy(cloud, _cloud_map_app(with_instance=False), tmp_path / "v2")

    assert _discover(cloud) == []


def test_private_dns_namespace_gets_a_private_hosted_zone_for_its_vpc(launch):
    app = App()
    app.add("Vpc", "AWS::EC2::VPC", {"CidrBlock": "10.0.0.0/16"})
    app.add(
        "PrivateNs",
        "AWS::ServiceDiscovery::PrivateDnsNamespace",
        {"Name": "internal.local", "Vpc": ref("Vpc")},
    )
    app.output("PrivateNamespaceId", get_att("PrivateNs", "Id"))
    app.output("PrivateZoneId", get_att("PrivateNs", "HostedZoneId"))
    cloud = launch(app)
    outputs = cloud.outputs("Stack")

    namespace = cloud.client("servicediscovery").get_namespace(Id=outputs["PrivateNamespaceId"])

    assert namespace["Namespace"]["Type"] == "DNS_PRIVATE"
    zone = cloud.client("route53").get_hosted_zone(Id=outputs["PrivateZoneId"])["HostedZone"]
    assert zone["Config"]["PrivateZone"] is True


def test_deleted_stack_leaves_no_namespace_service_or_hosted_zone(launch):
    cloud = launch(_cloud_map_app())

    cloud.client("cloudformation").delete_stack(StackName="Stack")

    servicediscovery = cloud.client("servicediscovery")
    assert servicediscovery.list_namespaces()["Namespaces"] == []
    assert servicediscovery.list_services()["Services"] == []
    assert cloud.client("route53").list_hosted_zones()["HostedZones"] == []


# -- Glue --------------------------------------------------------------------------------------


def test_glue_database_is_readable_by_its_ref(launch):
    cloud = launch(_glue_app())
    outputs = cloud.outputs("Stack")

    database = cloud.client("glue").get_database(Name=outputs["DatabaseRef"])["Database"]

    assert outputs["DatabaseRef"] == "orders_lake"
    assert (database["Name"], database["Description"]) == ("orders_lake", "the order lake")
    assert database["CatalogId"] == "123456789012"


def test_glue_database_name_is_folded_to_lower_case_as_glue_does(launch):
    cloud = launch(_glue_app(database_name="Orders_Lake"))

    database = cloud.client("glue").get_database(Name="orders_lake")["Database"]

    assert database["Name"] == cloud.outputs("Stack")["DatabaseRef"] == "orders_lake"
    assert cloud.client("glue").get_table(DatabaseName="orders_lake", Name="orders")["Table"]


def test_glue_table_has_its_storage_descriptor_columns_and_partition_keys(launch):
    cloud = launch(_glue_app())
    outputs = cloud.outputs("Stack")

    table = cloud.client("glue").get_table(DatabaseName="orders_lake", Name=outputs["TableRef"])[
        "Table"
    ]

    assert outputs["TableRef"] == "orders"
    assert (table["DatabaseName"], table["Name"]) == ("orders_lake", "orders")
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"] == {"classification": "parquet", "EXTERNAL": "TRUE"}
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    descriptor = table["StorageDescriptor"]
    assert descriptor["Columns"] == [
        {"Name": "order_id", "Type": "string"},
        {"Name": "amount", "Type": "double"},
    ]
    assert descriptor["Location"] == f"s3://{outputs['BucketName']}/orders/"
    assert descriptor["InputFormat"] == f"{PARQUET}.MapredParquetInputFormat"
    assert descriptor["SerdeInfo"] == {
        "SerializationLibrary": f"{PARQUET}.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    }


def test_glue_partition_is_readable_by_its_values(launch):
    cloud = launch(_glue_app())
    bucket = cloud.outputs("Stack")["BucketName"]

    partition = cloud.client("glue").get_partition(
        DatabaseName="orders_lake", TableName="orders", PartitionValues=["2026-11-27"]
    )["Partition"]

    assert partition["Values"] == ["2026-11-27"]
    assert partition["StorageDescriptor"]["Location"] == f"s3://{bucket}/orders/dt=2026-11-27/"


def test_changed_table_columns_update_the_table_in_place(launch, tmp_path):
    cloud = launch(_glue_app())
    columns = [_column("order_id", "string"), _column("amount", "decimal(12,2)")]

    _redeploy(cloud, _glue_app(columns=columns), tmp_path / "v2")

    glue = cloud.client("glue")
    table = glue.get_table(DatabaseName="orders_lake", Name="orders")["Table"]
    assert table["StorageDescriptor"]["Columns"] == columns
    assert table["VersionId"] == "2"
    # The partition of the table updated in place is still there.
    assert glue.get_partitions(DatabaseName="orders_lake", TableName="orders")["Partitions"]


def test_deleted_stack_leaves_no_glue_database(launch):
    cloud = launch(_glue_app())

    cloud.client("cloudformation").delete_stack(StackName="Stack")

    assert cloud.client("glue").get_databases()["DatabaseList"] == []
