"""A bucket on the S3-compatible server the tests start, and what tests do with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.dataset as ds
import pyarrow.fs as pafs

# Credentials the test server accepts, and no way for any client to look further afield.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class Bucket:
    """One fresh bucket; the checks go through boto3, not through the code under test."""

    name: str
    endpoint: str
    client: Any

    def url(self, prefix: str) -> str:
        return f"s3://{self.name}/{prefix}"

    def put(self, key: str, data: bytes | str) -> None:
        body = data.encode("utf-8") if isinstance(data, str) else data
        self.client.put_object(Bucket=self.name, Key=key, Body=body)

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.name, Key=key)

    def etags(self, prefix: str = "", *, markers: bool = False) -> dict[str, str]:
        """Every key below `prefix` with its ETag (the content's MD5 for a plain PUT);
        `markers`: also the empty `folder/` objects that stand for folders."""
        found: dict[str, str] = {}
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.name, Prefix=prefix):
            for item in page.get("Contents", []):
                if markers or not item["Key"].endswith("/"):
                    found[item["Key"][len(prefix) :]] = item["ETag"]
        return found

    def names(self, prefix: str = "", *, markers: bool = False) -> list[str]:
        return sorted(self.etags(prefix, markers=markers))

    def upload(self, local: Path, prefix: str) -> None:
        """Every file under a local folder, dotfiles included, below `prefix/`."""
        for path in sorted(local.rglob("*")):
            if path.is_file():
                self.put(f"{prefix}/{path.relative_to(local).as_posix()}", path.read_bytes())

    def filesystem(self) -> pafs.S3FileSystem:
        return pafs.S3FileSystem(
            access_key="testing",
            secret_key="testing",
            region="us-east-1",
            endpoint_override=self.endpoint,
        )

    def read_table(self, prefix: str) -> pl.DataFrame:
        """A curated table as a downstream reader gets it: pyarrow's hive dataset (which
        reads the partition values as text: they are turned back into dates here)."""
        dataset = ds.dataset(
            f"{self.name}/{prefix}",
            filesystem=self.filesystem(),
            format="parquet",
            partitioning="hive",
            exclude_invalid_files=False,
        )
        frame = pl.from_arrow(dataset.to_table())
        assert isinstance(frame, pl.DataFrame)
        dates = [c for c in ("pub_date", "run_date") if frame.schema.get(c) == pl.String]
        return frame.with_columns(pl.col(c).str.to_date() for c in dates)

    def scan_polars(self, prefix: str) -> pl.DataFrame:
        """The same table read by polars' own object-store client."""
        return pl.read_parquet(
            f"s3://{self.name}/{prefix}/**/*.parquet",
            hive_partitioning=True,
            storage_options={
                "aws_endpoint_url": self.endpoint,
                "aws_access_key_id": "testing",
                "aws_secret_access_key": "testing",
                "aws_region": "us-east-1",
                "aws_allow_http": "true",
            },
        )


def environment(endpoint: str) -> dict[str, str]:
    return {**ENVIRONMENT, "AWS_ENDPOINT_URL": endpoint}
