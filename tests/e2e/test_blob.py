"""The default datastore's Blob endpoint, driven by Azure's own storage SDK
(azure-storage-blob, Debian's python3-azure-storage): uploads as the ML SDK
does them (PUT blob with Content-MD5 and If-None-Match, PUT block + block list,
metadata), reads, and the two ways Azure authenticates them (SharedKey, SAS)."""

import datetime
import hashlib
import base64
import os
import ssl
import urllib.error
import urllib.request

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceExistsError
from azure.storage.blob import (BlobServiceClient, ContainerClient, ContainerSasPermissions,
                                generate_container_sas)

from conftest import Runtime


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rt = Runtime(str(tmp_path_factory.mktemp("blob") / "home"), extra_args=["--tls"]).start()
    os.environ["REQUESTS_CA_BUNDLE"] = rt.ca_file()
    _, _, ds = rt.http("GET", rt.ws + "/datastores/workspaceblobstore")
    _, _, sec = rt.http("POST", rt.ws + "/datastores/workspaceblobstore/listSecrets")
    rt.account_url = "https://%s.blob.core.windows.net" % ds["properties"]["accountName"]
    rt.container = ds["properties"]["containerName"]
    rt.key = sec["key"]
    yield rt
    os.environ.pop("REQUESTS_CA_BUNDLE", None)
    assert rt.stop() == 0, rt.logtext()[-3000:]


def container(rt, credential=None):
    return BlobServiceClient(account_url=rt.account_url, credential=credential or rt.key,
                             max_single_put_size=1024, max_block_size=512
                             ).get_container_client(rt.container)


def test_account_url_lands_on_the_runtime(store):
    # the SDK builds https://{accountName}.blob.core.windows.net: path-style on us
    assert store.account_url == store.url + "/mldeck.blob.core.windows.net"


def test_shared_key_upload_as_the_ml_sdk_does(store):
    c = container(store)
    data = b"0123456789" * 50
    c.upload_blob("LocalUpload/abc/model.pkl", data, overwrite=False, validate_content=True,
                  metadata={"name": "m", "version": "1"})
    props = c.get_blob_client("LocalUpload/abc/model.pkl").get_blob_properties()
    assert props.size == len(data) and props.metadata == {"name": "m", "version": "1"}
    assert props.content_settings.content_md5 == hashlib.md5(data).digest()
    assert c.download_blob("LocalUpload/abc/model.pkl").readall() == data
    # If-None-Match: * on an existing blob: 409, as Azure
    with pytest.raises(ResourceExistsError):
        c.upload_blob("LocalUpload/abc/model.pkl", data, overwrite=False)
    # the confirmation the ML SDK writes after an upload
    c.get_blob_client("LocalUpload/abc/model.pkl").set_blob_metadata(
        {"name": "m", "version": "1", "upload_status": "completed"})
    assert c.get_blob_client("LocalUpload/abc/model.pkl").get_blob_properties().metadata[
        "upload_status"] == "completed"
    # stored in the home, byte for byte
    path = os.path.join(store.home, "blobs", store.container, "LocalUpload", "abc", "model.pkl")
    with open(path, "rb") as f:
        assert f.read() == data


def test_block_upload(store):
    c = container(store)
    data = os.urandom(5000)  # past max_single_put_size: PUT block x 10 + PUT block list
    c.upload_blob("big/blocks.bin", data, overwrite=True, validate_content=True)
    assert c.download_blob("big/blocks.bin").readall() == data
    staged = os.path.join(store.home, "tmp", "blocks")
    assert not os.path.isdir(staged) or os.listdir(staged) == []
    assert "PUT /mldeck.blob.core.windows.net/%s/big/blocks.bin 201" % store.container \
        in store.wait_log("big/blocks.bin 201")


def test_wrong_or_missing_credentials_are_403(store):
    bad = base64.b64encode(b"x" * 32).decode()
    with pytest.raises(ClientAuthenticationError):
        container(store, bad).upload_blob("x/y", b"data", overwrite=True)
    req = urllib.request.Request(store.account_url + "/" + store.container + "/x/y", method="HEAD")
    ctx = ssl.create_default_context(cafile=store.ca_file())
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, context=ctx, timeout=10)
    assert e.value.code == 403 and e.value.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert not os.path.exists(os.path.join(store.home, "blobs", store.container, "x", "y"))


def sas(store, permission, expiry_minutes=30, **extra):
    return generate_container_sas(
        account_name="mldeck", container_name=store.container, account_key=store.key,
        permission=permission,
        expiry=datetime.datetime.utcnow() + datetime.timedelta(minutes=expiry_minutes), **extra)


def test_sas(store):
    token = sas(store, ContainerSasPermissions(read=True, write=True, create=True))
    cc = ContainerClient.from_container_url(
        store.account_url + "/" + store.container + "?" + token)
    cc.upload_blob("sas/file.txt", b"hello", overwrite=True)
    assert cc.download_blob("sas/file.txt").readall() == b"hello"
    # read-only cannot write; an expired one cannot read
    ro = ContainerClient.from_container_url(store.account_url + "/" + store.container + "?" +
                                            sas(store, ContainerSasPermissions(read=True)))
    assert ro.download_blob("sas/file.txt").readall() == b"hello"
    with pytest.raises(HttpResponseError) as e:
        ro.upload_blob("sas/other.txt", b"no", overwrite=True)
    assert e.value.status_code == 403
    # write alone may write (Azure: w creates or writes content) but not read
    wo = ContainerClient.from_container_url(store.account_url + "/" + store.container + "?" +
                                            sas(store, ContainerSasPermissions(write=True)))
    wo.upload_blob("sas/write-only.txt", b"w", overwrite=True)
    with pytest.raises(HttpResponseError) as e:
        wo.download_blob("sas/write-only.txt").readall()
    assert e.value.status_code == 403
    # sip: the client must be in the range; si: there are no stored access policies
    for extra, ok in (({"ip": "127.0.0.1"}, True), ({"ip": "127.0.0.0-127.0.0.9"}, True),
                      ({"ip": "10.0.0.1-10.0.0.9"}, False), ({"policy_id": "p1"}, False)):
        token = sas(store, ContainerSasPermissions(read=True), **extra)
        cc = ContainerClient.from_container_url(store.account_url + "/" + store.container +
                                                "?" + token)
        if ok:
            assert cc.download_blob("sas/file.txt").readall() == b"hello"
        else:
            with pytest.raises(HttpResponseError) as e:
                cc.download_blob("sas/file.txt").readall()
            assert e.value.status_code == 403, extra
    old = ContainerClient.from_container_url(store.account_url + "/" + store.container + "?" +
                                             sas(store, ContainerSasPermissions(read=True), -5))
    with pytest.raises(HttpResponseError) as e:
        old.download_blob("sas/file.txt").readall()
    assert e.value.status_code == 403


def test_md5_mismatch_and_bad_names(store):
    token = sas(store, ContainerSasPermissions(read=True, write=True, create=True))
    ctx = ssl.create_default_context(cafile=store.ca_file())

    def put(name, data, md5):
        req = urllib.request.Request(
            "%s/%s/%s?%s" % (store.account_url, store.container, name, token), data=data,
            method="PUT", headers={"x-ms-blob-type": "BlockBlob", "Content-MD5": md5,
                                   "Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                return r.status, r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.headers

    good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    s, h = put("md5/ok", b"abc", good)
    assert s == 201 and h["Content-MD5"] == good and h["ETag"]
    s, h = put("md5/bad", b"abd", good)
    assert s == 400 and h["x-ms-error-code"] == "Md5Mismatch"
    for name in ("..%2Fescape", "a/../../escape", "a//b", "a/./b"):
        s, _ = put(name, b"x", base64.b64encode(hashlib.md5(b"x").digest()).decode())
        assert s in (400, 403, 404), (name, s)
    assert not os.path.exists(os.path.join(store.home, "blobs", "escape"))
    assert not os.path.exists(os.path.join(store.home, "escape"))


def test_other_hosts_get_sas_secrets(store):
    """A client on another address cannot let the SDK sign with a key (it
    derives no account name from it): listSecrets answers with a SAS there."""
    host = "mldeck-remote.example:" + store.url.rsplit(":", 1)[1]
    s, _, sec = store.http("POST", store.ws + "/datastores/workspaceblobstore/listSecrets",
                           headers={"Host": host})
    assert s == 200 and sec["secretsType"] == "Sas" and "sig=" in sec["sasToken"]
    s, _, ds = store.http("GET", store.ws + "/datastores/workspaceblobstore",
                          headers={"Host": host})
    assert ds["properties"]["accountName"] == host + "/mldeck"
    cc = ContainerClient.from_container_url(
        store.account_url + "/" + store.container + "?" + sec["sasToken"])
    cc.upload_blob("remote/f.txt", b"via sas", overwrite=True)
    assert cc.download_blob("remote/f.txt").readall() == b"via sas"
