"""The ``msgflash`` command as a person runs it: child processes of ``python -m
msgflash_async`` against a local server, their output piped (no terminal)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from msgflash_async import MsgFlash
from msgflash_async._commands import app

from .conftest import WAIT, ServerThread, child_env, cli_runner, lines, run_command
from .test_cli_commands import MIXED_CSV, group_with_members, phones, with_client, write


def test_import_with_bad_and_duplicate_rows_then_a_clean_one(
    served: ServerThread, tmp_path: Path
) -> None:
    write(tmp_path / "mixed.csv", MIXED_CSV)
    write(tmp_path / "clean.ndjson", '{"name": "Yao", "phone": "+22997000009"}\n')

    mixed = run_command(served, "import", "mixed.csv", "--group", "Fair", cwd=tmp_path)
    clean = run_command(served, "import", "clean.ndjson", "--group", "Fair", "--json", cwd=tmp_path)

    assert mixed.returncode == 1
    summary = dict(line.split("\t") for line in lines(mixed.stdout)[1:])
    assert summary["created"] == "3"
    assert (summary["invalid"], summary["duplicates"], summary["failed"]) == ("2", "1", "0")
    assert summary["added_to_group"] == "3"
    assert summary["rejects"] == "mixed.csv.rejects.csv"
    with open(tmp_path / "mixed.csv.rejects.csv", newline="", encoding="utf-8") as file:
        assert [(row["row"], row["field"]) for row in csv.DictReader(file)] == [
            ("3", "phone"), ("4", "name"), ("5", "phone")
        ]  # fmt: skip
    progress = lines(mixed.stderr)
    assert progress[0].startswith("Created the group 'Fair'")
    assert progress[1].startswith("imported ")
    assert progress[-1] == "3 rows not imported, with the reasons: mixed.csv.rejects.csv"
    for text in (mixed.stdout, mixed.stderr):  # piped: no bar, no colours, no redraws
        assert "\r" not in text
        assert "\x1b" not in text
        assert "━" not in text
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["created"] == 1
    assert len(phones(served)) == 4


def test_a_dry_run_sends_no_request(served: ServerThread, tmp_path: Path) -> None:
    write(tmp_path / "in.csv", "name,phone\nAwa,+22997000001\nKofi,+22997000002\n")

    result = run_command(
        served, "--rate-limit", "10", "import", "in.csv", "--dry-run", cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert lines(result.stdout)[1] == "Importing would send 2 creates: about 1 s at 10 requests/s."
    assert served.server.requests == []


def test_export_members_and_contacts_in_both_formats(served: ServerThread, tmp_path: Path) -> None:
    group_id = group_with_members(served, "Fair", 150)

    members_csv = run_command(served, "export", "members", group_id, "-o", "m.csv", cwd=tmp_path)
    contacts_ndjson = run_command(served, "export", "contacts")

    assert members_csv.returncode == contacts_ndjson.returncode == 0
    with open(tmp_path / "m.csv", newline="", encoding="utf-8") as file:
        members = list(csv.DictReader(file))
    assert len(members) == 150
    assert members[0]["added_at"].endswith("Z")
    assert lines(members_csv.stderr)[-1].startswith("Exported 150 members to m.csv in ")
    contacts = [json.loads(line) for line in contacts_ndjson.stdout.splitlines()]
    assert sorted(contact["id"] for contact in contacts) == sorted(m["id"] for m in members)


def test_ctrl_c_during_an_export_says_how_to_resume_and_the_rerun_finishes(
    served: ServerThread, tmp_path: Path
) -> None:
    served.call(served.server.workspace().seed_contacts, 250)  # three pages
    state = tmp_path / "export.state"
    arguments = ["export", "contacts", "-o", "all.ndjson", "--state", str(state)]
    slow = subprocess.Popen(
        [sys.executable, "-m", "msgflash_async", "--rate-limit", "1", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=child_env(served),
    )
    deadline = time.monotonic() + WAIT
    while not (state.exists() and json.loads(state.read_text())["written"]):
        assert time.monotonic() < deadline, "the export wrote no page"
        time.sleep(0.02)
    slow.send_signal(signal.SIGINT)
    _, stderr = slow.communicate(timeout=WAIT)
    resumed = run_command(served, *arguments, cwd=tmp_path)

    assert slow.returncode == 130
    assert lines(stderr)[-1] == (
        f"Interrupted. {state} records how far it got: run the same command again to resume."
    )
    assert resumed.returncode == 0, resumed.stderr
    ids = [json.loads(line)["id"] for line in (tmp_path / "all.ndjson").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 250


def test_jobs_watch_follows_a_real_job_and_cancel_ends_one(served: ServerThread) -> None:
    group_id = served.call(lambda: served.server.workspace().add_group("Fair").id)
    ids = [contact.id for contact in served.call(served.server.workspace().seed_contacts, 200)]

    async def add(client: MsgFlash) -> str | None:
        return (await client.groups.add_members(group_id, ids)).id

    job_id = with_client(served, add)
    watched = run_command(served, "jobs", "watch", job_id, "--json")

    served.call(setattr, served.server.state.jobs, "manual", True)  # the next job waits
    other = with_client(served, add)
    cancelled = run_command(served, "jobs", "cancel", other)

    assert watched.returncode == 0, watched.stderr
    assert json.loads(watched.stdout) == {
        "added": 200, "already_in_group": 0, "not_found": 0, "total": 200, "processed": 200
    }  # fmt: skip
    progress = lines(watched.stderr)
    assert progress[-1] == f"job {job_id} done: 200/200 (100%)"
    assert all(line.startswith(f"job {job_id} ") for line in progress)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "status\tcancelled" in lines(cancelled.stdout)


def test_a_missing_key_exits_2_with_one_line(served: ServerThread) -> None:
    result = run_command(served, "groups", "list", env={"MSGFLASH_API_KEY": ""})

    assert result.returncode == 2
    assert lines(result.stderr) == [
        "Error: ConfigurationError: no API key: pass api_key=... or set the MSGFLASH_API_KEY "
        "environment variable"
    ]
    assert result.stdout == ""


def test_msgflash_server_prints_lines_to_paste() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "msgflash_async", "server", "--port", "0", "--rate-limit", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert server.stdout is not None
    printed: list[str] = []
    while not printed or printed[-1] != "Press Ctrl-C to stop.\n":
        printed.append(server.stdout.readline())
    pasted = dict(
        line.removeprefix("export ").strip().split("=", 1)
        for line in printed
        if line.startswith("export ")
    )
    used = cli_runner().invoke(app, ["groups", "create", "Pasted", "--json"], env=pasted)
    server.send_signal(signal.SIGINT)
    server.communicate(timeout=WAIT)

    assert sorted(pasted) == ["MSGFLASH_API_KEY", "MSGFLASH_BASE_URL"]
    assert pasted["MSGFLASH_API_KEY"] in printed[1]
    assert used.exit_code == 0, used.stderr
    assert json.loads(used.stdout)["name"] == "Pasted"
    assert server.returncode == 0
