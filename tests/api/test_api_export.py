# Proves the auditors' export (NDJSON as stored, paged, chained) and the standalone verifier on it:
# an untouched export verifies; each kind of tampering is named with its line, position and why.
from __future__ import annotations

import base64
import importlib.util
import itertools
import json
import sys
from pathlib import Path

import pytest
from api_harness import ROOT, Api, SignedCheckpoints

from notfall.store import chain

_spec = importlib.util.spec_from_file_location("verify_log", ROOT / "tools" / "verify_log.py")
assert _spec and _spec.loader
verify_log = importlib.util.module_from_spec(_spec)
sys.modules["verify_log"] = verify_log  # loaded from its file, as an auditor runs it
_spec.loader.exec_module(verify_log)


def history(api: Api) -> int:
    """Two cases: a call that opened one (4 events), an answered call (1), a voicemail case (4), a callback (1)."""
    api.open_case()
    api.call("call_answered")
    night = api.call("call_voicemail").body["case_id"]
    api.call("callback", case_id=night)
    assert api.log_length() == 10
    return 10


def export(audit_api: Api, **query: str):
    reply = audit_api.call("audit_export", query=query)
    return reply


def export_all(audit_api: Api, limit: int = 4) -> str:
    """Page by page as the export command does: keep `to` of the first page."""
    first = export(audit_api, **{"from": "1", "limit": str(limit)})
    assert first.status == 200, first.body
    text, to = first.body, first.headers["X-Export-To"]
    nxt = int(first.headers["X-Next-From"])
    while nxt <= int(to):
        page = export(audit_api, **{"from": str(nxt), "to": to, "limit": str(limit)})
        assert page.status == 200 and int(page.headers["X-Next-From"]) > nxt
        text += page.body
        nxt = int(page.headers["X-Next-From"])
    return text


def save(tmp_path: Path, audit_api: Api, text: str) -> dict[str, Path]:
    """The export, the checkpoints and the key as files, fetched through the API."""
    (tmp_path / "log.ndjson").write_text(text, encoding="utf-8")
    folder = tmp_path / "checkpoints"
    folder.mkdir(exist_ok=True)
    listed = audit_api.call("audit_checkpoints", query={"after": "0"})
    assert listed.status == 200
    for c in listed.body["checkpoints"]:
        got = audit_api.call("audit_checkpoint", path_params={"position": str(c["position"])})
        assert got.status == 200
        (folder / f"{c['position']}.json").write_text(json.dumps(got.body), encoding="utf-8")
    key = audit_api.call("audit_public_key")
    assert key.status == 200
    (tmp_path / "key.json").write_text(json.dumps(key.body), encoding="utf-8")
    return {"log": tmp_path / "log.ndjson", "checkpoints": folder, "key": tmp_path / "key.json"}


def run(files: dict[str, Path], *extra: str, capsys) -> tuple[int, str]:
    code = verify_log.main(
        [str(files["log"]), "--key", str(files["key"]), "--checkpoint", str(files["checkpoints"]), *extra]
    )
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def walk(api: Api, audit_api: Api, store, checkpoints: SignedCheckpoints, tmp_path: Path):
    history(api)
    checkpoints.seal(store)  # at 10
    text = export_all(audit_api)
    return text, lambda changed: save(tmp_path, audit_api, changed)


def lines_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def ndjson(records: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


# --- the export -----------------------------------------------------------------------------


def test_the_export_pages_in_position_order_with_the_stored_records_and_chain(api: Api, audit_api: Api, store):
    total = history(api)
    text = export_all(audit_api, limit=3)
    records = lines_of(text)
    assert [r["position"] for r in records] == list(range(1, total + 1))
    assert records == store.read_records(0, 100).records  # as stored: the payload is its JSON string
    assert isinstance(records[0]["data"], str) and records[0]["prev_hash"] == chain.GENESIS
    for before, record in itertools.pairwise(records):
        assert record["prev_hash"] == before["hash"]
    assert store.log_head() == (total, records[-1]["hash"])


def test_a_page_says_where_the_next_starts_and_which_end_it_used(api: Api, audit_api: Api):
    history(api)
    reply = export(audit_api, **{"from": "3", "to": "7", "limit": "2"})
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/x-ndjson"
    assert [r["position"] for r in lines_of(reply.body)] == [3, 4]
    assert (reply.headers["X-Next-From"], reply.headers["X-Export-To"]) == ("5", "7")
    last = export(audit_api, **{"from": "7", "to": "7"})
    assert [r["position"] for r in lines_of(last.body)] == [7] and last.headers["X-Next-From"] == "8"
    done = export(audit_api, **{"from": "8", "to": "7"})  # a client that asks once more gets nothing
    assert (done.status, done.body) == (200, "")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "1", "to": "11"}, "query.to"),  # the log ends at 10
        ({"from": "12"}, "query.from"),  # after the end
        ({"from": "6", "to": "4"}, "query.from"),
        ({"from": "0"}, "query.from"),
        ({"from": "1", "limit": "1001"}, "query.limit"),
    ],
)
def test_a_range_out_of_bounds_is_refused_naming_the_field(api: Api, audit_api: Api, query, field):
    history(api)
    reply = export(audit_api, **query)
    assert reply.status == 422 and field in reply.fields(), reply.body


def test_only_auditors_export(api: Api, audit_api: Api):
    from api_harness import role_claims, sample

    for role in ("hotline", "admin", "accounting"):
        reply = audit_api.send(sample("audit_export", claims=role_claims(role)))
        assert reply.status == 403, role


def test_checkpoints_and_the_key_are_served(api: Api, audit_api: Api, store, checkpoints: SignedCheckpoints):
    history(api)
    checkpoints.seal(store)
    listed = audit_api.call("audit_checkpoints", query={"after": "0"})
    assert listed.body == {"checkpoints": [{"position": 10, "key": "checkpoints/000000000010.json"}], "complete": True}
    one = audit_api.call("audit_checkpoint", path_params={"position": "10"}).body
    assert json.loads(one["statement"])["hash"] == store.log_head()[1]
    missing = audit_api.call("audit_checkpoint", path_params={"position": "9"})
    assert missing.status == 404 and missing.fields() == ["path.position"]
    key = audit_api.call("audit_public_key").body
    assert key["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----\n")


# --- the verifier ---------------------------------------------------------------------------


def test_an_untouched_export_verifies(walk, capsys):
    text, files = walk
    code, out = run(files(text), capsys=capsys)
    assert code == 0, out
    assert out.startswith("OK: positions 1..10, 10 events") and "1 checkpoint(s) verified (last at 10)" in out


def test_a_changed_payload_is_named(walk, capsys):
    text, files = walk
    records = lines_of(text)
    records[4]["data"] = records[4]["data"].replace("hotline-1", "hotline-2")
    assert records[4]["data"] != lines_of(text)[4]["data"]
    code, out = run(files(ndjson(records)), capsys=capsys)
    assert code == 1
    assert "line 5, position 5: changed: " in out and "does not match its hash" in out


def test_a_changed_attribute_is_named(walk, capsys):
    text, files = walk
    records = lines_of(text)
    records[6]["actor"] = "user:somebody-else"
    code, out = run(files(ndjson(records)), capsys=capsys)
    assert code == 1 and "line 7, position 7: changed: " in out


def test_a_change_with_its_hash_rewritten_breaks_the_next_link(walk, capsys):
    text, files = walk
    records = lines_of(text)
    records[2]["actor"] = "user:somebody-else"
    records[2]["hash"] = chain.event_hash(records[2], records[2]["prev_hash"])
    code, out = run(files(ndjson(records)), capsys=capsys)
    assert code == 1 and "line 4, position 4: changed: prev_hash is not the hash of position 3" in out


def test_a_whole_chain_rewritten_after_a_change_contradicts_the_checkpoint(walk, capsys):
    text, files = walk
    records = lines_of(text)
    records[2]["actor"] = "user:somebody-else"
    chain.seal(records[2:], records[2]["prev_hash"])  # every later hash recomputed
    code, out = run(files(ndjson(records)), capsys=capsys)
    assert code == 1 and "line 10, position 10: changed: the hash differs from checkpoint" in out


def test_a_removed_line_is_named_as_the_gap(walk, capsys):
    text, files = walk
    records = lines_of(text)
    del records[5]  # position 6
    code, out = run(files(ndjson(records)), capsys=capsys)
    assert code == 1 and "line 6, position 7: missing: position 6 is not in the export" in out


def test_the_last_lines_removed_are_missing_before_the_checkpoint(walk, capsys):
    text, files = walk
    code, out = run(files(ndjson(lines_of(text)[:8])), capsys=capsys)
    assert code == 1 and "the export ends at position 8" in out and "seals position 10" in out


def test_swapped_lines_are_named_as_reordered(walk, capsys):
    text, files = walk
    records = lines_of(text)
    records[3], records[4] = records[4], records[3]
    code, out = run(files(ndjson(records)), capsys=capsys)
    assert code == 1 and "line 4, position 5: reordered: comes before position 4 (line 5)" in out


def test_a_malformed_line_is_named(walk, capsys):
    text, files = walk
    lines = text.splitlines()
    lines[2] = lines[2][:40]  # cut short
    code, out = run(files("\n".join(lines) + "\n"), capsys=capsys)
    assert code == 1 and "line 3: malformed line: not JSON" in out
    records = lines_of(text)
    del records[1]["hash"]
    code, out = run(files(ndjson(records)), capsys=capsys)
    assert code == 1 and "line 2: malformed line: lacks hash" in out


def test_a_checkpoint_with_a_bad_signature_is_named(walk, capsys):
    text, files = walk
    saved = files(text)
    [path] = saved["checkpoints"].glob("*.json")
    body = json.loads(path.read_text())
    sealed = json.loads(body["statement"])
    body["statement"] = json.dumps({**sealed, "position": 9}, sort_keys=True, separators=(",", ":"))
    path.write_text(json.dumps(body))
    code, out = run(saved, capsys=capsys)
    assert code == 1 and "checkpoint 10.json: bad signature: the signature does not verify" in out
    body["signature"] = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()
    path.write_text(json.dumps(body))
    code, out = run(saved, capsys=capsys)
    assert code == 1 and "bad signature" in out


def test_positions_out_of_the_range_asked_for_are_named(walk, capsys):
    text, files = walk
    saved = files(text)
    code, out = run(saved, "--from", "1", "--to", "8", capsys=capsys)
    assert code == 1 and "line 9, position 9: out of range: outside the range asked for (1..8)" in out
    code, out = run(saved, "--from", "2", capsys=capsys)
    assert code == 1 and "line 1, position 1: out of range" in out
    saved["log"].write_text(ndjson(lines_of(text)[2:6]))  # 3..6, anchored by nothing before it
    code, out = run(saved, "--from", "3", "--to", "7", capsys=capsys)
    assert code == 1 and "the export ends at position 6, the range asked for at 7" in out
    code, out = run(saved, "--from", "3", "--to", "6", capsys=capsys)
    assert code == 0, out
