"""The Iceberg table's file access through the project's one boto3 S3 client.

pyiceberg's own S3 FileIOs bring their own S3 clients (Arrow's C++ client, or s3fs on
aiobotocore), each with its own credential, endpoint and retry handling. This one goes through
`shared.aws.client("s3")` like every other adapter, so the function's role, `AWS_ENDPOINT_URL`
and the shared botocore config apply to the table's files as to everything else. The tables a
run touches are small (one run's rows, a few metadata files), so objects are read in ranges
and written in one PutObject each.

pyiceberg loads it by name: the catalog's `py-io-impl` property is `IO_IMPL`.
"""

from __future__ import annotations

import io
from typing import Any

from botocore.exceptions import ClientError
from fsspec.spec import AbstractBufferedFile, AbstractFileSystem
from pyiceberg.io.fsspec import FsspecFileIO
from shared import aws

IO_IMPL = "etl.iceberg_io.Boto3FileIO"
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


def _split(path: str) -> tuple[str, str]:
    bucket, _, key = path.removeprefix("s3://").removeprefix("s3a://").partition("/")
    return bucket, key


class Boto3S3FileSystem(AbstractFileSystem):
    """The few fsspec operations pyiceberg and Arrow's fsspec bridge use, on boto3."""

    protocol = ("s3", "s3a")
    cachable = False

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client

    @classmethod
    def _strip_protocol(cls, path: str | list[str]) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return path.removeprefix("s3://").removeprefix("s3a://").rstrip("/")

    def info(self, path: str, **_kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        bucket, key = _split(path)
        try:
            head = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _NOT_FOUND:
                raise
        else:
            return {"name": path, "size": head["ContentLength"], "type": "file"}
        listed = self.client.list_objects_v2(Bucket=bucket, Prefix=key.rstrip("/") + "/", MaxKeys=1)
        if listed.get("KeyCount", 0):
            return {"name": path, "size": 0, "type": "directory"}
        raise FileNotFoundError(path)

    def ls(self, path: str, detail: bool = True, **_kwargs: Any) -> list[Any]:
        path = self._strip_protocol(path)
        bucket, key = _split(path)
        prefix = f"{key}/" if key else ""
        entries: list[dict[str, Any]] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            entries += [
                {"name": f"{bucket}/{o['Key']}", "size": o["Size"], "type": "file"}
                for o in page.get("Contents", [])
            ]
            entries += [
                {"name": f"{bucket}/{p['Prefix'].rstrip('/')}", "size": 0, "type": "directory"}
                for p in page.get("CommonPrefixes", [])
            ]
        return entries if detail else [entry["name"] for entry in entries]

    def _rm(self, path: str) -> None:
        bucket, key = _split(self._strip_protocol(path))
        self.client.delete_object(Bucket=bucket, Key=key)

    def rm(self, path: str | list[str], recursive: bool = False, **_kwargs: Any) -> None:
        for one in path if isinstance(path, list) else [path]:
            self._rm(one)

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, **kwargs: Any) -> Any:
        return Boto3S3File(self, path, mode, block_size=block_size or "default", **kwargs)


class Boto3S3File(AbstractBufferedFile):
    """Reads in ranges (GetObject `Range`); writes the whole object on close (PutObject)."""

    fs: Boto3S3FileSystem

    def _fetch_range(self, start: int, end: int) -> bytes:
        if start >= end:
            return b""
        bucket, key = _split(self.path)
        response = self.fs.client.get_object(
            Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}"
        )
        return response["Body"].read()

    def _initiate_upload(self) -> None:
        self._parts = io.BytesIO()

    def _upload_chunk(self, final: bool = False) -> bool:
        self._parts.write(self.buffer.getvalue())
        if final:
            bucket, key = _split(self.path)
            self.fs.client.put_object(Bucket=bucket, Key=key, Body=self._parts.getvalue())
        return True


class Boto3FileIO(FsspecFileIO):
    """pyiceberg's fsspec FileIO with S3 served by `Boto3S3FileSystem` on the shared client."""

    def _get_fs(self, scheme: str, hostname: str | None = None) -> AbstractFileSystem:
        if scheme in Boto3S3FileSystem.protocol:
            return Boto3S3FileSystem(aws.client("s3"))
        return super()._get_fs(scheme, hostname)
