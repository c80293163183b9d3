"""S3 event notifications to SQS, SNS and Lambda, with the records, filters and timing S3 uses.

moto keeps a bucket's notification configuration and calls its `notifications.send_event` on
each object operation; localcloud replaces that call so that what arrives is what S3 sends:

- the record of S3's event message structure (eventVersion 2.1, userIdentity,
  requestParameters, responseElements, the bucket's ownerIdentity, the object's versionId and
  sequencer, no size or eTag on removals), with the key URL-encoded as S3 encodes it (a space
  becomes `+`, other reserved and non-ASCII characters are percent-encoded, `/` is kept):
  consumers decode it with `urllib.parse.unquote_plus`;
- prefix and suffix filters compared on the object's key, rule names in either case;
- a function is invoked asynchronously (`engine.invoke_async`), so Lambda's retries and the
  function's on-failure destination or dead-letter queue apply, as on AWS;
- SNS notifications carry S3's subject, "Amazon S3 Notification";
- the `s3:TestEvent` message, sent to every queue and topic when a configuration is put;
- `ObjectRemoved:DeleteMarkerCreated` when a versioned bucket's object is deleted;
- a configuration whose entries overlap (a common event type, and prefixes and suffixes one
  key could both have) refused with S3's InvalidArgument, whatever their destinations;
- no `ObjectTagging:Put` for a PutObject or CopyObject (moto tags every object it writes
  through its PutObjectTagging; only that API's own calls send the event on S3);
- with EventBridge enabled, each event on the default bus with S3's detail type ("Object
  Created", "Object Deleted", "Object Tags Added", "Object ACL Updated"...) and reason.

Configurations come from the API, from CDK's `Custom::S3BucketNotifications` resource (owned
here, so the inline handler CDK writes for it is not needed) and from the
`NotificationConfiguration` property of `AWS::S3::Bucket` (which moto's CloudFormation ignores).
A notification whose destination no longer exists is logged and recorded in the engine's
`discarded_events`: S3 drops it too.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar, NamedTuple
from urllib.parse import quote_plus

from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.s3 import models as s3_models
from moto.s3 import notifications as s3_notifications
from moto.s3 import responses as s3_responses
from moto.s3.exceptions import InvalidArgumentError
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from localcloud.core.cloudformation import (
    CREATE_FROM_TEMPLATE,
    UPDATE_FROM_TEMPLATE,
    OwnedResource,
    applied_after_create,
    applied_after_update,
)
from localcloud.core.engine import active_engine
from localcloud.core.hooks import Hook
from localcloud.core.service import Message, Service

logger = logging.getLogger("localcloud")

SNS_SUBJECT = "Amazon S3 Notification"
TEST_EVENT = "s3:TestEvent"


class _DestinationKind(NamedTuple):
    """How each description of a notification configuration names one kind of destination.

    moto keeps the shape of S3's XML API (`QueueConfiguration`, `Queue`, `Event`,
    `Filter.S3Key.FilterRule`); the S3 API's JSON shape (CDK's custom resource) and the
    `AWS::S3::Bucket` property each name the lists and ARNs differently.
    """

    moto_list: str
    moto_arn: str
    moto_attribute: str
    api_list: str
    api_arn: str
    bucket_list: str
    bucket_arn: str


_DESTINATION_KINDS = (
    _DestinationKind("QueueConfiguration", "Queue", "queue",
                     "QueueConfigurations", "QueueArn", "QueueConfigurations", "Queue"),
    _DestinationKind("TopicConfiguration", "Topic", "topic",
                     "TopicConfigurations", "TopicArn", "TopicConfigurations", "Topic"),
    _DestinationKind("CloudFunctionConfiguration", "CloudFunction", "cloud_function",
                     "LambdaFunctionConfigurations", "LambdaFunctionArn", "LambdaConfigurations",
                     "Function"),
)  # fmt: skip


class S3Notifications(Service):
    """S3 event notifications to SQS, SNS and Lambda (see the module docstring).

    Delivery to queues and topics happens during the object operation, as moto's S3 calls it;
    delivery to functions is an async invocation, run by the engine's pump (`settle()`).
    """

    NAME = "s3"

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        # S3's sequencer orders the events of one key; any increasing hex value does that.
        self._sequencer = itertools.count(time.time_ns())

    def next_sequencer(self) -> str:
        return f"{next(self._sequencer):018X}"

    def notify(self, event_name: str, bucket: Any, key: Any) -> None:
        """Send the event of one object operation to each matching destination of `bucket`."""
        configuration = bucket.notification_configuration
        if configuration is None:
            return
        sequencer = self.next_sequencer()
        for notification in configuration.queue:
            if matches(notification, event_name, key.name):
                record = s3_event(event_name, bucket, key, notification.id, sequencer)
                self._to_queue(notification.arn, record)
        for notification in configuration.topic:
            if matches(notification, event_name, key.name):
                record = s3_event(event_name, bucket, key, notification.id, sequencer)
                self._to_topic(notification.arn, record)
        for notification in configuration.cloud_function:
            if matches(notification, event_name, key.name):
                record = s3_event(event_name, bucket, key, notification.id, sequencer)
                self._to_function(notification.arn, record, bucket.name)
        if configuration.event_bridge is not None:
            self._to_event_bridge(event_name, bucket, key, sequencer)

    def send_test_events(self, bucket: Any) -> None:
        """S3's test message, once to each queue and topic of a configuration just put."""
        message = {
            "Service": "Amazon S3",
            "Event": TEST_EVENT,
            "Time": iso_8601_datetime_with_milliseconds(),
            "Bucket": bucket.name,
            "RequestId": _request_id(),
            "HostId": uuid.uuid4().hex,
        }
        configuration = bucket.notification_configuration
        for arn in dict.fromkeys(notification.arn for notification in configuration.queue):
            self._to_queue(arn, message)
        for arn in dict.fromkeys(notification.arn for notification in configuration.topic):
            self._to_topic(arn, message)

    def _to_queue(self, queue_arn: str, message: dict[str, Any]) -> None:
        self._send(queue_arn, message, Message(json.dumps(message)))

    def _to_topic(self, topic_arn: str, message: dict[str, Any]) -> None:
        self._send(topic_arn, message, Message(json.dumps(message), subject=SNS_SUBJECT))

    def _to_function(self, function_arn: str, event: dict[str, Any], bucket_name: str) -> None:
        self._send(function_arn, event, Message(json.dumps(event), trigger=f"S3 {bucket_name}"))

    def _send(self, arn: str, record: dict[str, Any], message: Message) -> None:
        try:
            self.engine.deliver(arn, message)
        except Exception as error:
            self._discard(arn, record, error)

    def _to_event_bridge(self, event_name: str, bucket: Any, key: Any, sequencer: str) -> None:
        family = event_name.split(":")[1]
        detail_type = _EVENT_BRIDGE_DETAIL_TYPES.get(event_name) or _EVENT_BRIDGE_DETAIL_TYPES.get(
            family
        )
        if detail_type is None:
            return  # S3 sends EventBridge no event of this type (replication, say)
        s3_object: dict[str, Any] = {"key": key.name}
        if family in ("ObjectCreated", "ObjectRestore"):
            s3_object.update(size=key.size, etag=key.etag.strip('"'))
        elif family in ("ObjectTagging", "ObjectAcl"):
            s3_object["etag"] = key.etag.strip('"')
        if bucket.is_versioned and getattr(key, "version_id", None):
            s3_object["version-id"] = key.version_id
        if family in ("ObjectCreated", "ObjectRemoved"):
            s3_object["sequencer"] = sequencer
        detail: dict[str, Any] = {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": s3_object,
            "request-id": _request_id(),
            "requester": bucket.account_id,
            "source-ip-address": "127.0.0.1",
        }
        if family in ("ObjectCreated", "ObjectRemoved"):
            detail["reason"] = _event_bridge_reason(event_name)
        if family == "ObjectRemoved":
            detail["deletion-type"] = (
                "Delete Marker Created"
                if event_name.endswith("DeleteMarkerCreated")
                else "Permanently Deleted"
            )
        self.engine.event_bus().put_event(
            account_id=bucket.account_id,
            region=bucket.region_name,
            bus_name="default",
            source="aws.s3",
            detail_type=detail_type,
            detail=detail,
            resources=[bucket.arn],
        )

    def _discard(self, arn: str, message: dict[str, Any], error: Exception) -> None:
        logger.warning("S3 notification to %s dropped: %s", arn, error)
        self.engine.discarded_events.append(
            {"reason": f"S3 notification destination failed: {error}", "arn": arn, "event": message}
        )


def matches(notification: Any, event_name: str, key_name: str) -> bool:
    """Whether a moto `Notification` takes this event: its event types, then its key filter."""
    family = event_name.rsplit(":", 1)[0] + ":*"
    if event_name not in notification.events and family not in notification.events:
        return False
    rules = (notification.filters or {}).get("S3Key", {}).get("FilterRule", [])
    for rule in [rules] if isinstance(rules, dict) else rules:
        name, value = rule["Name"].lower(), rule["Value"]
        if name == "prefix" and not key_name.startswith(value):
            return False
        if name == "suffix" and not key_name.endswith(value):
            return False
    return True


def encoded_key(key_name: str) -> str:
    """The object key as S3 writes it in an event record: form-encoded, `/` kept."""
    return quote_plus(key_name, safe="/")


def s3_event(
    event_name: str, bucket: Any, key: Any, configuration_id: str, sequencer: str
) -> dict[str, Any]:
    """S3's event message (one record) for an operation on `key` (a moto key or delete marker)."""
    removed = event_name.startswith("s3:ObjectRemoved")
    s3_object: dict[str, Any] = {"key": encoded_key(key.name)}
    if not removed:
        s3_object.update(size=key.size, eTag=key.etag.strip('"'))
    if bucket.is_versioned and getattr(key, "version_id", None):
        s3_object["versionId"] = key.version_id
    s3_object["sequencer"] = sequencer
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": bucket.region_name,
                "eventTime": iso_8601_datetime_with_milliseconds(),
                "eventName": event_name.removeprefix("s3:"),
                "userIdentity": {"principalId": f"AWS:{bucket.account_id}"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": _request_id(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {
                        "name": bucket.name,
                        "ownerIdentity": {"principalId": bucket.account_id},
                        "arn": bucket.arn,
                    },
                    "object": s3_object,
                },
            }
        ]
    }


def moto_configuration(configuration: dict[str, Any], *, from_bucket: bool) -> dict[str, Any]:
    """A notification configuration in moto's shape, from the S3 API's or `AWS::S3::Bucket`'s.

    The API's shape (what CDK's custom resource carries) has a list of `Events` per
    destination and `Filter.Key.FilterRules`; the bucket resource has one `Event` and
    `Filter.S3Key.Rules`.
    """
    converted: dict[str, Any] = {}
    for kind in _DESTINATION_KINDS:
        source_list = kind.bucket_list if from_bucket else kind.api_list
        source_arn = kind.bucket_arn if from_bucket else kind.api_arn
        entries = []
        for entry in configuration.get(source_list) or []:
            events = [entry["Event"]] if from_bucket else list(entry["Events"])
            key_filter = (entry.get("Filter") or {}).get("S3Key" if from_bucket else "Key") or {}
            rules = key_filter.get("Rules" if from_bucket else "FilterRules") or []
            converted_entry: dict[str, Any] = {kind.moto_arn: entry[source_arn], "Event": events}
            if rules:
                converted_entry["Filter"] = {
                    "S3Key": {
                        "FilterRule": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]
                    }
                }
            if entry.get("Id"):
                converted_entry["Id"] = entry["Id"]
            entries.append(converted_entry)
        if entries:
            converted[kind.moto_list] = entries
    event_bridge = configuration.get("EventBridgeConfiguration")
    if event_bridge is not None and (
        not from_bucket or str(event_bridge.get("EventBridgeEnabled", "true")).lower() == "true"
    ):
        converted["EventBridgeConfiguration"] = {}
    return converted


def _request_id() -> str:
    return uuid.uuid4().hex[:16].upper()


# The detail type of the event S3 sends EventBridge, by event name or by its family.
_EVENT_BRIDGE_DETAIL_TYPES = {
    "ObjectCreated": "Object Created",
    "ObjectRemoved": "Object Deleted",
    "s3:ObjectRestore:Post": "Object Restore Initiated",
    "s3:ObjectRestore:Completed": "Object Restore Completed",
    "s3:ObjectRestore:Delete": "Object Restore Expired",
    "s3:ObjectTagging:Put": "Object Tags Added",
    "s3:ObjectTagging:Delete": "Object Tags Deleted",
    "ObjectAcl": "Object ACL Updated",
}


def _event_bridge_reason(event_name: str) -> str:
    if event_name == "s3:ObjectRemoved:DeleteMarkerCreated":
        return "DeleteObject"
    return {
        "Put": "PutObject",
        "Post": "POST Object",
        "Copy": "CopyObject",
        "CompleteMultipartUpload": "CompleteMultipartUpload",
        "Delete": "DeleteObject",
    }.get(event_name.rsplit(":", 1)[-1], event_name.split(":")[1])


def _s3_backend(account_id: str, region: str) -> Any:
    return s3_backends[account_id][get_partition(region)]


class BucketNotifications(OwnedResource):
    """CDK's `Custom::S3BucketNotifications`: the configuration put on the bucket directly.

    With `Managed` (a bucket of the stack) the configuration replaces the bucket's; otherwise
    (an imported bucket) it is added to the notifications already there and removed on delete.
    """

    resource_type: ClassVar[str] = "Custom::S3BucketNotifications"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> BucketNotifications:
        props = cloudformation_json["Properties"]
        ours = moto_configuration(props.get("NotificationConfiguration") or {}, from_bucket=False)
        resource = cls(resource_name, props, region_name, account_id)
        resource.managed = str(props.get("Managed", "true")).lower() == "true"
        resource.added_arns = [] if resource.managed else _arns(ours)
        wanted = ours if resource.managed else _merged(_current(resource), ours)
        _s3_backend(account_id, region_name).put_bucket_notification_configuration(
            props["BucketName"], wanted
        )
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _s3_backend(account_id, region_name)
        name = self.properties["BucketName"]
        if name not in backend.buckets:
            return
        if self.managed:
            backend.get_bucket(name).set_notification_configuration(None)
            return
        kept: dict[str, Any] = {}
        for kind_name, entries in _current(self).items():
            kind = _KINDS_BY_MOTO_LIST.get(kind_name)
            if kind is None:  # EventBridgeConfiguration: not one of ours to remove
                kept[kind_name] = entries
                continue
            others = [entry for entry in entries if entry[kind.moto_arn] not in self.added_arns]
            if others:
                kept[kind_name] = others
        backend.get_bucket(name).set_notification_configuration(kept or None)


_KINDS_BY_MOTO_LIST = {kind.moto_list: kind for kind in _DESTINATION_KINDS}


def _current(resource: BucketNotifications) -> dict[str, Any]:
    """The bucket's configuration now, in moto's shape."""
    bucket = _s3_backend(resource.account, resource.region).get_bucket(
        resource.properties["BucketName"]
    )
    configuration = bucket.notification_configuration
    if configuration is None:
        return {}
    current: dict[str, Any] = {}
    for kind in _DESTINATION_KINDS:
        entries = [
            {kind.moto_arn: n.arn, "Event": list(n.events), "Filter": n.filters, "Id": n.id}
            for n in getattr(configuration, kind.moto_attribute)
        ]
        if entries:
            current[kind.moto_list] = entries
    if configuration.event_bridge is not None:
        current["EventBridgeConfiguration"] = configuration.event_bridge
    return current


def _merged(current: dict[str, Any], added: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for kind, entries in added.items():
        if kind == "EventBridgeConfiguration":
            merged[kind] = entries
        else:
            merged[kind] = [*merged.get(kind, []), *entries]
    return merged


def _arns(configuration: dict[str, Any]) -> list[str]:
    return [
        entry[_KINDS_BY_MOTO_LIST[kind].moto_arn]
        for kind, entries in configuration.items()
        if kind in _KINDS_BY_MOTO_LIST
        for entry in entries
    ]


# -- moto hooks ---------------------------------------------------------------------------


_writing_object = threading.local()


def _events_as_s3_sends_them(original):
    # moto's records lack fields S3 sends, and it invokes functions synchronously.
    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        if key is None:
            return
        name = event_name.value if hasattr(event_name, "value") else str(event_name)
        if name.startswith("s3:ObjectTagging:") and getattr(_writing_object, "active", False):
            return
        active_engine().service(S3Notifications).notify(name, bucket, key)

    return send_event


def _object_write_tags_silently(original):
    # moto's PutObject and CopyObject set the new object's tags (none, mostly) through its
    # PutObjectTagging, which notifies ObjectTagging:Put; S3 sends only the ObjectCreated event.
    def write(self, *args: Any, **kwargs: Any) -> Any:
        _writing_object.active = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _writing_object.active = False

    return write


def _test_event_as_s3_sends_it(original):
    # S3's test message also carries a request id and host id, and goes to SNS with a subject.
    def send_test_event(account_id: str, bucket: Any) -> None:
        active_engine().service(S3Notifications).send_test_events(bucket)

    return send_test_event


def _delete_marker_notifies(original):
    # moto sends nothing when deleting an object of a versioned bucket adds a delete marker.
    def _set_delete_marker(self, bucket_name: str, key_name: str) -> Any:
        marker = original(self, bucket_name, key_name)
        active_engine().service(S3Notifications).notify(
            "s3:ObjectRemoved:DeleteMarkerCreated", self.get_bucket(bucket_name), marker
        )
        return marker

    return _set_delete_marker


def _overlapping_configurations_refused(original):
    # moto keeps any configuration, so an object could notify twice locally where S3 refuses
    # the configuration (and the deploy that puts it fails).
    def put_bucket_notification_configuration(
        self, bucket_name: str, notification_config: dict[str, Any]
    ) -> None:
        entries = list(_entries_of(notification_config))
        for first, second in itertools.combinations(entries, 2):
            if _overlap(first, second):
                raise InvalidArgumentError(
                    "Configurations overlap. Configurations on the same bucket cannot share a "
                    "common event type.",
                    "Event",
                    ", ".join(sorted(first[0] & second[0])) or ", ".join(sorted(first[0])),
                )
        return original(self, bucket_name, notification_config)

    return put_bucket_notification_configuration


def _entries_of(configuration: dict[str, Any]) -> Iterator[tuple[set[str], str, str]]:
    """Each destination entry of a configuration in moto's shape: events, prefix, suffix."""
    for kind in _DESTINATION_KINDS:
        listed = configuration.get(kind.moto_list) or []
        for entry in [listed] if isinstance(listed, dict) else listed:
            events = entry.get("Event") or []
            rules = ((entry.get("Filter") or {}).get("S3Key") or {}).get("FilterRule") or []
            values = {
                rule["Name"].lower(): rule["Value"]
                for rule in ([rules] if isinstance(rules, dict) else rules)
            }
            yield (
                {events} if isinstance(events, str) else set(events),
                values.get("prefix", ""),
                values.get("suffix", ""),
            )


def _overlap(first: tuple[set[str], str, str], second: tuple[set[str], str, str]) -> bool:
    events_a, prefix_a, suffix_a = first
    events_b, prefix_b, suffix_b = second
    shared_event = any(
        a == b or a == _family(b) or _family(a) == b for a in events_a for b in events_b
    )
    return (
        shared_event
        and (prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a))
        and (suffix_a.endswith(suffix_b) or suffix_b.endswith(suffix_a))
    )


def _family(event_name: str) -> str:
    return event_name.rsplit(":", 1)[0] + ":*"


def _apply_bucket_property(bucket: Any, properties: dict[str, Any]) -> None:
    # moto's CloudFormation ignores a bucket's NotificationConfiguration property.
    configuration = properties.get("NotificationConfiguration")
    if configuration is not None:
        bucket.set_notification_configuration(moto_configuration(configuration, from_bucket=True))


_bucket_applies_notifications = applied_after_create(_apply_bucket_property)
_updated_bucket_applies_notifications = applied_after_update(_apply_bucket_property)


S3Notifications.HOOKS = (
    Hook(
        s3_notifications,
        "send_event",
        _events_as_s3_sends_them,
        why="moto's records lack fields S3 sends, and it invokes functions synchronously.",
        parameters=("account_id", "event_name", "bucket", "key"),
        replaces=True,
    ),
    Hook(
        s3_responses.S3Response,
        "put_object",
        _object_write_tags_silently,
        why="An upload with tags notifies ObjectCreated only",
        parameters=("self",),
    ),
    Hook(
        s3_responses.S3Response,
        "copy_object",
        _object_write_tags_silently,
        why="An upload with tags notifies ObjectCreated only",
        parameters=("self",),
    ),
    Hook(
        s3_notifications,
        "send_test_event",
        _test_event_as_s3_sends_it,
        why="S3's test event carries request and host ids, and a subject to SNS",
        parameters=("account_id", "bucket"),
        replaces=True,
    ),
    Hook(
        s3_models.S3Backend,
        "_set_delete_marker",
        _delete_marker_notifies,
        why="S3 notifies a delete marker's creation; moto sends nothing",
        parameters=("self", "bucket_name", "key_name"),
    ),
    Hook(
        s3_models.S3Backend,
        "put_bucket_notification_configuration",
        _overlapping_configurations_refused,
        why="S3 refuses overlapping notification configurations",
        parameters=("self", "bucket_name", "notification_config"),
    ),
    Hook(
        s3_models.FakeBucket,
        "create_from_cloudformation_json",
        _bucket_applies_notifications,
        why="Moto's CloudFormation ignores a bucket's NotificationConfiguration",
        parameters=CREATE_FROM_TEMPLATE,
    ),
    Hook(
        s3_models.FakeBucket,
        "update_from_cloudformation_json",
        _updated_bucket_applies_notifications,
        why="An updated bucket's NotificationConfiguration applies too",
        parameters=UPDATE_FROM_TEMPLATE,
    ),
)
S3Notifications.MODELS = (BucketNotifications,)
