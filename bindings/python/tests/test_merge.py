"""Merging the answer into the local config, and storing the local part."""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET

import pytest

import provision
from support import ANSWER, Reply, raises

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- my own settings: keep -->\n'
LOCAL_AUDIO = "<audio><ring_device>local   speaker</ring_device><volume a='1'/></audio>"
LOCAL = f"""{DECLARATION}<options>
  {LOCAL_AUDIO}
  <accounts><account><username>local-account</username></account></accounts>
</options>
"""
SERVER_ACCOUNTS = "<accounts><account><username>server-account</username></account></accounts>"
SERVER_CODECS = '<codecs><codec name="opus" priority="1"/></codecs>'


@pytest.fixture
def prov(serve, load):
    """A handle whose server answers ANSWER; accounts and codecs are significant."""
    server = serve({"/configuration": Reply(ANSWER)})
    return load([server.url + "/"], sections="accounts,codecs")


@pytest.fixture
def local_config(tmp_path):
    path = tmp_path / "config.xml"
    path.write_text(LOCAL, encoding="utf-8")
    return path


def section_names(xml_text: str):
    return [child.tag for child in ET.fromstring(xml_text.encode("utf-8"))]


def test_the_merge_keeps_local_bytes_and_takes_provisioned_sections(prov, local_config):
    prov.run(local_config)
    merged = prov.config

    assert merged.startswith(DECLARATION + "<options>")
    assert LOCAL_AUDIO in merged
    assert SERVER_ACCOUNTS in merged and SERVER_CODECS in merged
    assert "local-account" not in merged
    assert "server speaker" not in merged
    assert section_names(merged) == ["audio", "accounts", "codecs"]
    assert prov.is_provisioned("accounts") and prov.is_provisioned("codecs")
    assert not prov.is_provisioned("audio")
    assert not prov.is_provisioned("general")
    assert local_config.read_text(encoding="utf-8") == LOCAL, "run writes nothing"


def test_without_a_local_file_the_answer_keeps_only_provisioned_sections(prov, tmp_path):
    prov.run(tmp_path / "does-not-exist.xml")
    expected = ANSWER.replace("\n  <audio><ring_device>server speaker</ring_device></audio>", "")
    assert prov.config == expected
    assert section_names(prov.config) == ["accounts", "codecs"]


def test_run_without_a_path_is_the_same_as_a_missing_file(prov, tmp_path):
    prov.run(str(tmp_path / "does-not-exist.xml"))
    from_missing = prov.config
    prov.run()
    assert prov.config == from_missing


def test_non_ascii_text_round_trips(serve, load, tmp_path):
    answer = ANSWER.replace("server-account", "Zoë ☎ 电话")
    server = serve({"/configuration": Reply(answer)})
    prov = load([server.url + "/"])
    local = tmp_path / "ünïcode folder" / "config.xml"
    local.parent.mkdir()
    local.write_text("<options><audio>Grüße</audio></options>", encoding="utf-8")
    prov.run(local)
    assert "Zoë ☎ 电话" in prov.config and "<audio>Grüße</audio>" in prov.config


def test_store_local_writes_the_merged_config_without_provisioned_sections(prov, local_config, tmp_path):
    prov.run(local_config)
    merged = prov.config
    stored = tmp_path / "stored.xml"

    prov.store_local(stored)

    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    text = stored.read_text(encoding="utf-8")
    assert section_names(text) == ["audio"]
    assert text.startswith(DECLARATION) and LOCAL_AUDIO in text
    assert "<accounts" not in text and "<codecs" not in text
    # What was stored merges back into the same config.
    prov.run(stored)
    assert prov.config == merged


def test_store_local_over_the_local_file_keeps_its_mode(prov, local_config):
    os.chmod(local_config, 0o640)
    prov.run(local_config)
    prov.store_local(local_config)
    assert stat.S_IMODE(os.stat(local_config).st_mode) == 0o640
    assert section_names(local_config.read_text(encoding="utf-8")) == ["audio"]


def test_store_local_strips_provisioned_sections_from_given_xml(prov, tmp_path):
    prov.run()
    given = "<options><general/><accounts><account/></accounts><codecs/></options>"
    stored = tmp_path / "given.xml"
    prov.store_local(stored, config_xml=given)
    assert stored.read_text(encoding="utf-8") == "<options><general/></options>"


def test_store_local_before_any_run(prov, tmp_path):
    stored = tmp_path / "early.xml"
    with raises(provision.ArgumentError):
        prov.store_local(stored)
    assert not stored.exists()
    # With text to write and no run yet, nothing is provisioned: all is kept.
    prov.store_local(stored, config_xml="<options><accounts/></options>")
    assert stored.read_text(encoding="utf-8") == "<options><accounts/></options>"


def test_store_local_refuses_malformed_xml_and_keeps_the_old_file(prov, local_config):
    prov.run(local_config)
    with raises(provision.FormatError) as info:
        prov.store_local(local_config, config_xml="<options><audio></options>")
    assert "config_xml" in info.value.message
    assert local_config.read_text(encoding="utf-8") == LOCAL


def test_store_local_into_a_missing_folder_is_an_io_error(prov, tmp_path):
    prov.run()
    target = tmp_path / "no-such-folder" / "config.xml"
    with raises(provision.ProvisionIOError) as info:
        prov.store_local(target)
    assert str(target) in info.value.message
