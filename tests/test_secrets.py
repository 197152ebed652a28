"""Secrets never printed: every form a setting can carry a password in is masked by one
function (`trulience.config.mask_secrets`), and `trulience config` / `db url` go through it."""

import json
import os
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import assume, given
from hypothesis import strategies as st

from trulience.cli import main
from trulience.config import SECRET_MASK, Settings, mask_secrets, mask_url
from trulience.errors import ConfigError

SECRET = "hunter2"

# (the setting's text, what must be printed instead)
URL_FORMS = [
    # userinfo
    ("postgresql://studio:hunter2@db:5432/catalog", "postgresql://studio:****@db:5432/catalog"),
    ("postgres://studio:hunter2@db/catalog", "postgres://studio:****@db/catalog"),
    ("postgresql+psycopg2://dagster:hunter2@db/d", "postgresql+psycopg2://dagster:****@db/d"),
    ("postgresql://studio:hunter2@h1:5432,h2:5433/c", "postgresql://studio:****@h1:5432,h2:5433/c"),
    ("postgresql://studio:hun@ter2@db/c", "postgresql://studio:****@db/c"),  # "@" not encoded
    ("postgresql://studio:hun?ter#2@db/c", "postgresql://studio:****@db/c"),  # "?", "#" too
    ("postgresql://studio:hunter%402@db/c", "postgresql://studio:****@db/c"),  # encoded
    ("postgresql://studio@db/catalog", "postgresql://studio@db/catalog"),  # a role is no secret
    (
        "postgresql://postgres:@/postgres?host=/tmp/pg",
        "postgresql://postgres:@/postgres?host=/tmp/pg",
    ),
    # query parameters
    ("postgresql://studio@db/c?password=hunter2", "postgresql://studio@db/c?password=****"),
    (
        "postgresql://db/c?sslmode=verify-full&sslpassword=hunter2&user=studio",
        "postgresql://db/c?sslmode=verify-full&sslpassword=****&user=studio",
    ),
    ("postgresql:///c?host=/run/pg&PASSWORD=hunter2", "postgresql:///c?host=/run/pg&PASSWORD=****"),
    # keyword DSNs
    ("host=db password=hunter2 dbname=c", "host=db password=**** dbname=c"),
    ("password = 'hunter2 with spaces' host=db", "password = **** host=db"),
    ("host=db password='it\\'s hunter2' user=x", "host=db password=**** user=x"),
    ("host=db sslpassword=hunter2", "host=db sslpassword=****"),
    # storage, lake and the S3 endpoint
    ("s3://AKIA:hunter2@media/prod", "s3://AKIA:****@media/prod"),
    ("s3://studio-lake/prod", "s3://studio-lake/prod"),
    ("http://minio:hunter2@minio.internal:9000", "http://minio:****@minio.internal:9000"),
    (
        "https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIA&X-Amz-Signature=hunter2",
        "https://bucket.s3.amazonaws.com/k?X-Amz-Credential=****&X-Amz-Signature=****",
    ),
    ("file:///srv/trulience/lake", "file:///srv/trulience/lake"),
    # ComfyUI workers, one or a list
    ("https://hunter2@gpu1:8188", "https://****@gpu1:8188"),  # a bare token as userinfo
    ("http://gpu1:8188/?token=hunter2", "http://gpu1:8188/?token=****"),
    (
        "http://u:hunter2@gpu1:8188,http://gpu2:8188/?api_key=hunter2,https://gpu3",
        "http://u:****@gpu1:8188,http://gpu2:8188/?api_key=****,https://gpu3",
    ),
    ("http://gpu1:8188,http://gpu2:8188", "http://gpu1:8188,http://gpu2:8188"),
]


@pytest.mark.parametrize(("text", "masked"), URL_FORMS, ids=[f[0] for f in URL_FORMS])
def test_every_form_of_a_setting_is_masked(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked
    assert mask_url(text) == masked  # the old name is the same function


def test_options_mask_secret_keys_and_urls_inside() -> None:
    options = {
        "key": "AKIA",
        "secret": SECRET,
        "token": SECRET,
        "anon": False,
        "client_kwargs": {
            "endpoint_url": f"http://minio:{SECRET}@minio:9000",
            "aws_secret_access_key": SECRET,
            "region_name": "eu-west-1",
        },
        "config_kwargs": {"retries": [f"https://u:{SECRET}@proxy"]},
    }
    masked = mask_secrets(options)
    assert SECRET not in json.dumps(masked) and "AKIA" not in json.dumps(masked)
    assert masked["anon"] is False and masked["client_kwargs"]["region_name"] == "eu-west-1"
    assert masked["client_kwargs"]["endpoint_url"] == "http://minio:****@minio:9000"


_PASSWORD = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=6)


@given(password=_PASSWORD)
def test_a_url_password_never_survives_masking(password: str) -> None:
    encoded = quote(password, safe="")
    url = f"postgresql://studio:{encoded}@db.internal:5432/catalog?sslmode=require"
    assume(encoded not in url.replace(encoded, "", 1))
    masked = mask_secrets(url)
    assert encoded not in masked
    assert masked == "postgresql://studio:****@db.internal:5432/catalog?sslmode=require"


@given(password=_PASSWORD.filter(lambda p: p.strip() == p and p))
def test_a_dsn_password_never_survives_masking(password: str) -> None:
    quoted = "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"
    masked = mask_secrets(f"host=db password={quoted} dbname=catalog")
    assert masked == "host=db password=**** dbname=catalog"


@given(password=_PASSWORD.filter(lambda p: p.isalnum()))
def test_a_worker_list_keeps_every_host_and_no_password(password: str) -> None:
    workers = f"http://a:{password}@gpu1:8188,http://gpu2:8188/?token={password},http://gpu3"
    assert mask_secrets(workers) == (
        "http://a:****@gpu1:8188,http://gpu2:8188/?token=****,http://gpu3"
    )


def _env(tmp_path, **settings: str) -> dict[str, str]:
    return {"TRULIENCE_HOME": str(tmp_path), **settings}


def test_config_masks_every_setting_that_can_hold_a_secret(tmp_path) -> None:
    env = _env(
        tmp_path,
        DATABASE_URL=f"postgresql://studio@db/catalog?password={SECRET}",
        STORAGE_URL=f"s3://AKIA:{SECRET}@media/prod",
        STORAGE_OPTIONS=json.dumps({"key": "AKIA", "client_kwargs": {"token": SECRET}}),
        S3_ENDPOINT_URL=f"http://minio:{SECRET}@minio.internal:9000",
        LAKE_URL=f"s3://AKIA:{SECRET}@lake/prod",
        LAKE_OPTIONS=json.dumps({"secret": SECRET}),
        COMFYUI_WORKERS=f"http://u:{SECRET}@gpu1:8188,https://{SECRET}@gpu2:8188",
    )
    result = CliRunner().invoke(main, ["config"], env=env)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "postgresql://studio@db/catalog?password=****" in result.output
    assert "s3://AKIA:****@media/prod" in result.output
    assert "s3://AKIA:****@lake/prod" in result.output
    assert "http://u:****@gpu1:8188,https://****@gpu2:8188" in result.output
    assert "http://minio:****@minio.internal:9000" in result.output


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://studio@db/catalog?password={SECRET}",
        f"postgresql://studio:{SECRET}@db/catalog?sslpassword={SECRET}",
    ],
)
def test_db_url_masks_the_password_unless_revealed(tmp_path, url: str) -> None:
    env = _env(tmp_path, DATABASE_URL=url)
    shown = CliRunner().invoke(main, ["db", "url"], env=env)
    assert shown.exit_code == 0, shown.output
    assert SECRET not in shown.output and SECRET_MASK in shown.output
    revealed = CliRunner().invoke(main, ["db", "url", "--reveal"], env=env)
    assert revealed.output.strip() == url


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", f"host=db user=studio password={SECRET}"),
        ("DATABASE_URL", f"mysql://studio:{SECRET}@db/catalog"),
        ("STORAGE_URL", f"ftp://studio:{SECRET}@host/media"),
        ("LAKE_URL", f"gs://studio:{SECRET}@lake/prod"),
        ("COMFYUI_WORKERS", f"http://gpu1:8188,ws://u:{SECRET}@gpu2:8188"),
    ],
)
def test_a_refused_setting_is_named_without_its_secret(tmp_path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(_env(tmp_path, **{name: value}))
    assert name in str(refused.value) and SECRET not in str(refused.value)
    result = CliRunner().invoke(main, ["config"], env=_env(tmp_path, **{name: value}))
    assert result.exit_code == 1 and name in result.output and SECRET not in result.output


def test_settings_in_a_log_line_carry_no_secret(tmp_path) -> None:
    settings = Settings.from_env(
        _env(
            tmp_path, DATABASE_URL=f"postgresql://studio:{SECRET}@db/c", LAKE_OPTIONS='{"key": "x"}'
        )
    )
    assert SECRET not in repr(settings) and SECRET not in f"{settings}"


def test_a_lake_on_object_storage_is_shown_without_its_credentials() -> None:
    from trulience.lake.files import Lake

    lake = Lake(f"s3://AKIA:{SECRET}@studio-lake/prod", {"secret": SECRET})
    assert str(lake) == "s3://AKIA:****@studio-lake/prod"
    assert SECRET not in repr(lake) and SECRET not in f"{lake}"


# RepositorySnap reads a deprecated schedule property inside Dagster itself
@pytest.mark.filterwarnings("ignore::DeprecationWarning:dagster.*")
def test_the_dagster_ui_is_shown_setting_names_not_their_secrets(db_url, tmp_path, monkeypatch):
    from dagster import build_sensor_context
    from dagster._core.remote_representation.external_data import RepositorySnap

    from trulience_assets.definitions import build_definitions

    # the real catalog, reached through a URL carrying a password (the embedded server's
    # socket trusts its user and ignores it)
    with_password = db_url + ("&" if "?" in db_url else "?") + "password=hunter2"
    monkeypatch.setenv("DATABASE_URL", with_password)
    monkeypatch.setenv("STORAGE_URL", f"memory://studio:hunter2@box{tmp_path}")
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path)} | dict(os.environ))
    defs = build_definitions(settings)
    # what the webserver is given to show: the resources' configured values
    snapshot = RepositorySnap.from_def(defs.get_repository_def())
    assert "hunter2" not in repr(snapshot)
    shown = {r.name: r.configured_values for r in snapshot.resources}
    assert "DATABASE_URL" in repr(shown["catalog"]) and "STORAGE_URL" in repr(shown["storage"])
    # used outside a run (the CLI's launches), the resources read the variable themselves
    with defs.resources["catalog"].connect(actor="test") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert defs.resources["storage"].get().url == f"memory://studio:hunter2@box{tmp_path}"
    # and a run still reaches the catalog: Dagster resolves the variable when it starts
    sensor = defs.resolve_sensor_def("approvals_sensor")
    answer = sensor(build_sensor_context(resources=defs.resources))
    assert "no approved take" in answer.skip_message
