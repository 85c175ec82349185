"""The file stores keep to one contract (put, open, delete; FileMissing once gone; only our
keys): the local directory, and an S3-compatible bucket (moto's in-process S3). The hall's
upload and download run on the bucket as they do on the directory; the settings choose."""
from __future__ import annotations

import pytest
from moto import mock_aws

from backend.config import ConfigError, FileSettings, Settings, file_settings
from backend.files.store import FileMissing, LocalFileStore, S3FileStore, file_store, new_key
from backend.web.app import create_app
from backend.workflow.engine import Workflow

from tests.support.backend_api import SECRET, SERVICE_TOKEN, Api
from tests.support.files import PDF, upload

BUCKET = "campus-files"


@pytest.fixture
def aws(monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalFileStore(tmp_path / "files")
    request.getfixturevalue("aws")
    return S3FileStore(BUCKET, prefix="uploads/", region="us-east-1")


async def test_a_store_keeps_opens_and_deletes_by_key(store):
    key = new_key()
    await store.put(key, PDF)
    assert await store.open(key) == PDF
    await store.delete(key)
    with pytest.raises(FileMissing):
        await store.open(key)
    await store.delete(key)  # deleting what is gone is no error
    with pytest.raises(ValueError):
        await store.put("../../etc/passwd", b"x")  # only our keys: nothing else names a path or an object


def test_the_settings_choose_the_store(tmp_path, aws):
    local = file_store(file_settings({"FILES_DIR": str(tmp_path)}))
    assert isinstance(local, LocalFileStore) and local.directory == tmp_path
    s3 = file_store(file_settings({"FILES_STORE": "s3", "FILES_S3_BUCKET": BUCKET, "FILES_S3_PREFIX": "p/"}))
    assert isinstance(s3, S3FileStore) and (s3.bucket, s3.prefix) == (BUCKET, "p/")
    for bad in ({"FILES_STORE": "s3"}, {"FILES_STORE": "ftp"},
                {"FILES_STORE": "s3", "FILES_S3_BUCKET": "b", "FILES_S3_ENDPOINT_URL": "minio:9000"},
                {"FILES_ALLOWED_TYPES": "pdf,exe"}, {"FILES_MAX_MB": "0"}):
        with pytest.raises(ConfigError):
            file_settings(bad)


async def test_uploads_and_downloads_go_to_the_bucket(aiohttp_client, database, database_url, aws):
    settings = Settings(database_url=database_url, secret_key=SECRET, service_token=SERVICE_TOKEN,
                        files=FileSettings(store="s3", s3_bucket=BUCKET, s3_prefix="hall/", s3_region="us-east-1"))
    api = Api(await aiohttp_client(create_app(settings, Workflow(settings.timezone))), database_url)
    [stored] = await upload(api, "t2001", ("诊断证明.pdf", PDF))
    import boto3
    objects = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET, Prefix="hall/")["Contents"]
    assert len(objects) == 1 and "诊断" not in objects[0]["Key"]
    response = await api.client.get(f"/api/v1/files/{stored['id']}",
                                    headers={"Authorization": f"Bearer {await api.token('t2001')}"})
    assert response.status == 200 and await response.read() == PDF
