"""The ``msgflash`` commands run in this process with click's runner, against a local server:
options, output, exit codes and errors, quickly (the child-process runs are in
test_cli_subprocess.py)."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from msgflash_async import MsgFlash, __version__
from msgflash_async._commands import app

from .conftest import API_KEY, ServerThread, cli_runner, invoke, lines

MIXED_CSV = (
    "name,phone,tags,meta\n"
    'Awa Doe,+22997000001,vip;new,"{""city"": ""Cotonou""}"\n'
    "Kofi Mensah,+22997000002,,\n"
    "Bad Phone,12345,,\n"
    ",+22997000003,,\n"
    "Awa Again,+22997000001,,\n"
    'Ama Owusu,+22997000004,"[""a""]",\n'
)
"""Six rows: three to create, an invalid phone, a missing name, a repeated phone."""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def error_lines(stderr: str) -> list[str]:
    return [line for line in lines(stderr) if line.startswith("Error:")]


def phones(served: ServerThread) -> dict[str, str]:
    """Every contact on the server: phone -> name."""
    contacts = served.call(lambda: list(served.server.workspace().contacts.values()))
    return {contact.phone: contact.name for contact in contacts}


def with_client(served: ServerThread, work: Any) -> Any:
    """``work(client)`` on the server's loop, with an unpaced SDK client."""

    async def run() -> Any:
        async with MsgFlash(API_KEY, base_url=served.server.base_url, rate_limit=None) as client:
            return await work(client)

    return served.run(run)


def group_with_members(served: ServerThread, name: str, count: int) -> str:
    """A group of ``count`` seeded contacts, added directly in the server; its id."""

    def make() -> str:
        workspace = served.server.workspace()
        group = workspace.add_group(name)
        workspace.add_members(group.id, [c.id for c in workspace.seed_contacts(count)])
        return group.id

    return served.call(make)


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command and group under ``group``."""
    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


# --- the command as a whole ---------------------------------------------------------------


def test_version_names_the_package() -> None:
    result = cli_runner().invoke(app, ["--version"])

    assert result.exit_code == 0
    assert result.stdout == f"msgflash-async {__version__}\n"


def test_every_command_has_help() -> None:
    paths = list(commands(app))
    assert {("import",), ("export", "members"), ("jobs", "watch"), ("groups", "create")} <= set(
        paths
    )
    for path in paths:
        result = cli_runner().invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "usage:" in result.stdout.lower(), path


@pytest.mark.parametrize(
    ("arguments", "env", "shown"),
    [
        (["groups", "list"], {"MSGFLASH_API_KEY": ""}, "Error: ConfigurationError: no API key"),
        (["groups", "list"], {"MSGFLASH_API_KEY": "msgf_live_5ec2e7"}, "Error: Configuration"),
        (["--base-url", "ftp://x.test", "jobs", "list"], {}, "Error: ConfigurationError: "),
        (["contacts", "create", "--name", "A", "--phone", "12"], {}, "InvalidInputError: phone"),
        (["contacts", "get", ""], {}, "Error: InvalidInputError: contact_id"),
        (["contacts", "create", "--name", "A", "--phone", "+1555", "--meta", "[1]"], {}, "--meta"),
        (["--rate-limit", "-1", "groups", "list"], {}, "--rate-limit"),
        (["jobs", "stop", "x"], {}, "No such command"),
        (["import", "missing.csv"], {}, "does not exist"),
        (["import", "."], {}, "is a directory"),
        (["import", "contacts.txt"], {}, "FILE must end in .csv, .ndjson or .jsonl"),
        (["import", "empty.csv"], {}, "Error: cannot read empty.csv: path: line 1"),
        (["import", "ok.csv", "--on-existing", "merge"], {}, "--on-existing"),
        (["import", "ok.csv", "--rejects", "r.txt"], {}, "--rejects must end in .csv"),
    ],
)
def test_usage_and_configuration_errors_exit_2(
    served: ServerThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    env: dict[str, str],
    shown: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "contacts.txt", "name,phone\n")
    write(tmp_path / "empty.csv", "\n")
    write(tmp_path / "ok.csv", "name,phone\nA,+15550000001\n")

    result = invoke(served, *arguments, env=env)

    assert result.exit_code == 2, result.stderr
    assert shown in result.stderr
    assert result.stdout == ""
    assert not served.server.requests


def test_an_api_error_is_one_line_with_the_request_id_and_exits_1(served: ServerThread) -> None:
    result = invoke(served, "contacts", "get", "no-such-contact")

    assert result.exit_code == 1
    assert lines(result.stderr) == error_lines(result.stderr)
    [line] = error_lines(result.stderr)
    assert line.startswith("Error: NotFoundError: 404 NOT_FOUND: Contact not found (GET http")
    assert re.search(r"/no-such-contact\) \(request_id=[0-9a-f-]{36}\)$", line)
    assert "Traceback" not in result.stderr


def test_msgflash_debug_shows_the_traceback(served: ServerThread) -> None:
    result = invoke(served, "contacts", "get", "no-such-contact", env={"MSGFLASH_DEBUG": "1"})

    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert lines(result.stderr)[-1].startswith("Error: NotFoundError: ")


def test_ctrl_c_exits_130_saying_how_to_resume(
    served: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(work: Coroutine[Any, Any, Any]) -> Any:
        work.close()
        raise KeyboardInterrupt

    monkeypatch.setattr(asyncio, "run", interrupted)

    result = invoke(served, "jobs", "watch", "job-1")

    assert result.exit_code == 130
    assert lines(result.stderr) == [
        "Interrupted. The job goes on; follow it again: msgflash jobs watch job-1"
    ]


def test_the_key_is_never_printed(served: ServerThread, tmp_path: Path) -> None:
    csv_file = write(tmp_path / "in.csv", MIXED_CSV)
    runs = [
        (0, ["contacts", "create", "--name", "Awa", "--phone", "+22990000001", "--json"]),
        (1, ["contacts", "get", "missing"]),
        (1, ["contacts", "delete", "missing"]),
        (0, ["groups", "create", "Fair"]),
        (0, ["groups", "list"]),
        (1, ["import", str(csv_file), "--group", "Fair"]),
        (1, ["import", str(csv_file), "--dry-run"]),
        (0, ["export", "members", "Fair", "--format", "csv"]),
        (0, ["export", "contacts"]),
        (0, ["jobs", "list", "--json"]),
        (1, ["jobs", "watch", "missing"]),
        (1, ["jobs", "cancel", "missing"]),
        (2, ["--base-url", "http://example.test", "groups", "list"]),
    ]
    outputs = [(status, invoke(served, *arguments)) for status, arguments in runs]
    served.call(served.server.revoke_key, API_KEY)
    revoked = invoke(served, "groups", "list", env={"MSGFLASH_DEBUG": "1"})
    outputs.append((1, revoked))
    wrong = "msgf_live_" + API_KEY.removeprefix("msgf_live_").upper()
    outputs.append((2, invoke(served, "groups", "list", env={"MSGFLASH_API_KEY": wrong})))

    assert [result.exit_code for _, result in outputs] == [status for status, _ in outputs]
    assert "Traceback" in revoked.stderr
    assert "AuthenticationError" in revoked.stderr
    for _, result in outputs:
        for text in (result.stdout, result.stderr):
            assert API_KEY.removeprefix("msgf_live_") not in text.lower()


# --- contacts, groups, jobs ---------------------------------------------------------------


def test_contacts_create_get_delete(served: ServerThread) -> None:
    created = invoke(
        served,
        *("contacts", "create", "--name", "Awa Doe", "--phone", "+33612345000"),
        *("--tag", "vip", "--tag", "new", "--meta", '{"city": "Paris"}', "--json"),
    )
    contact = json.loads(created.stdout)
    shown = invoke(served, "contacts", "get", contact["id"])
    fetched = invoke(served, "contacts", "get", contact["id"], "--json")
    deleted = invoke(served, "contacts", "delete", contact["id"], "--json")
    gone = invoke(served, "contacts", "get", contact["id"])

    assert created.exit_code == 0
    assert (contact["name"], contact["phone"]) == ("Awa Doe", "+33612345000")
    assert (contact["tags"], contact["meta"]) == (["vip", "new"], {"city": "Paris"})
    assert contact["created_at"].endswith("Z")
    assert json.loads(fetched.stdout) == contact
    assert "name\tAwa Doe" in lines(shown.stdout)
    assert 'tags\t["vip", "new"]' in lines(shown.stdout)
    assert json.loads(deleted.stdout) == {"id": contact["id"], "deleted": True}
    assert gone.exit_code == 1
    assert phones(served) == {}


def test_groups_create_and_list(served: ServerThread) -> None:
    created = invoke(
        served, "groups", "create", "VIP", "--color", "#F59E0B", "--description", "Best", "--json"
    )
    listed = invoke(served, "groups", "list", "--json")
    table = invoke(served, "groups", "list")
    again = invoke(served, "groups", "create", "vip")

    group = json.loads(created.stdout)
    assert (group["name"], group["color"], group["description"]) == ("VIP", "#F59E0B", "Best")
    assert json.loads(listed.stdout) == [group]
    assert lines(table.stdout) == [
        "id\tname\tcontact_count\tcolor\tdescription",
        f"{group['id']}\tVIP\t0\t#F59E0B\tBest",
    ]
    assert again.exit_code == 1
    assert error_lines(again.stderr)[0].startswith("Error: ConflictError: 409 CONFLICT")


def test_jobs_list_cancel_and_watch_a_cancelled_job() -> None:
    with ServerThread(api_key=API_KEY, rate_limit=None, manual_jobs=True) as served:
        group_id = served.call(lambda: served.server.workspace().add_group("Big").id)
        ids = [c.id for c in served.call(served.server.workspace().seed_contacts, 150)]

        async def add(client: MsgFlash) -> str | None:
            return (await client.groups.add_members(group_id, ids)).id

        job_id = with_client(served, add)
        listed = invoke(served, "jobs", "list", "--json")
        cancelled = invoke(served, "jobs", "cancel", job_id, "--json")
        watched = invoke(served, "jobs", "watch", job_id)
        again = invoke(served, "jobs", "cancel", job_id)

    [job] = json.loads(listed.stdout)
    assert (job["id"], job["status"], job["requested_count"]) == (job_id, "pending", 150)
    assert json.loads(cancelled.stdout)["status"] == "cancelled"
    assert watched.exit_code == 1
    assert error_lines(watched.stderr) == [
        f"Error: JobCancelledError: bulk job {job_id} was cancelled"
    ]
    assert again.exit_code == 1
    assert "Job is already cancelled" in again.stderr


# --- import -------------------------------------------------------------------------------


def test_import_reports_bad_and_duplicate_rows_in_the_rejects_file(
    served: ServerThread, tmp_path: Path
) -> None:
    source = write(tmp_path / "in.csv", MIXED_CSV)

    result = invoke(served, "import", str(source), "--json")

    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert {key: summary[key] for key in ("rows", "created", "invalid", "duplicates")} == {
        "rows": 6,
        "created": 3,
        "invalid": 2,
        "duplicates": 1,
    }
    assert summary["rejects"] == f"{source}.rejects.csv"
    with open(summary["rejects"], newline="", encoding="utf-8") as file:
        rejects = list(csv.DictReader(file))
    assert rejects == [
        {"row": "3", "field": "phone", "reason": rejects[0]["reason"], "name": "Bad Phone",
         "phone": "12345"},
        {"row": "4", "field": "name", "reason": "is required", "name": "", "phone": "+22997000003"},
        {"row": "5", "field": "phone", "reason": "duplicate: row 1 has the same phone (sent once)",
         "name": "Awa Again", "phone": "+22997000001"},
    ]  # fmt: skip
    assert rejects[0]["reason"].startswith("must be an E.164 number")
    assert phones(served) == {
        "+22997000001": "Awa Doe",
        "+22997000002": "Kofi Mensah",
        "+22997000004": "Ama Owusu",
    }


def test_import_ndjson_into_a_new_group_updating_existing_contacts(
    served: ServerThread, tmp_path: Path
) -> None:
    served.call(served.server.workspace().add_contact, "Old Name", "+22997000001")
    source = write(
        tmp_path / "in.ndjson",
        '{"name": "Awa Doe", "phone": "+22997000001", "tags": ["vip"]}\n'
        '["not", "an", "object"]\n'
        '{"name": "Kofi", "phone": "+22997000002"}\n',
    )
    rejects = tmp_path / "out" / "rejects.ndjson"
    rejects.parent.mkdir()

    result = invoke(
        served,
        *("import", str(source), "--group", "Fair", "--on-existing", "update"),
        *("--rejects", str(rejects), "--json"),
    )

    summary = json.loads(result.stdout)
    assert result.exit_code == 1
    assert "Created the group 'Fair'" in result.stderr
    assert (summary["created"], summary["existing"], summary["updated"]) == (1, 1, 1)
    assert (summary["invalid"], summary["added_to_group"]) == (1, 2)
    assert [json.loads(line) for line in rejects.read_text().splitlines()] == [
        {"row": 2, "field": None, "reason": "line 2: not a JSON object (got an array)",
         "values": {}},
    ]  # fmt: skip
    assert phones(served) == {"+22997000001": "Awa Doe", "+22997000002": "Kofi"}
    [group] = served.call(lambda: list(served.server.workspace().groups.values()))
    assert (group.name, len(group.members)) == ("Fair", 2)


def test_a_clean_import_exits_0_and_a_checkpoint_resumes_without_requests(
    served: ServerThread, tmp_path: Path
) -> None:
    source = write(tmp_path / "in.csv", "name,phone\nAwa,+22997000001\nKofi,+22997000002\n")
    checkpoint = tmp_path / "import.db"

    first = invoke(served, "import", str(source), "--checkpoint", str(checkpoint))
    served.call(served.server.clear_requests)
    again = invoke(served, "import", str(source), "--checkpoint", str(checkpoint), "--json")

    assert first.exit_code == 0
    assert "created\t2" in lines(first.stdout)
    assert "rejects\t" in first.stdout
    assert not (tmp_path / "in.csv.rejects.csv").exists()
    assert again.exit_code == 0
    assert json.loads(again.stdout)["resumed"] == 2
    assert [request.route for request in served.server.requests] == []


def test_a_dry_run_sends_nothing_and_estimates_the_time(
    served: ServerThread, tmp_path: Path
) -> None:
    source = write(tmp_path / "in.csv", MIXED_CSV)

    plain = invoke(served, "--rate-limit", "2", "import", str(source), "--dry-run", "--group", "X")
    as_json = invoke(served, "--rate-limit", "2", "import", str(source), "--dry-run", "--json")

    assert plain.exit_code == as_json.exit_code == 1  # rows are invalid
    assert lines(plain.stdout) == [
        "6 rows: 3 to send, 2 invalid, 1 duplicate phones. Nothing was sent.",
        "Importing would send 3 creates: about 2 s at 2 requests/s.",
        "Each contact would join the group 'X' (created if missing).",
        f"Rows that would not be imported, with the reasons: {source}.rejects.csv",
    ]
    assert json.loads(as_json.stdout) == {
        "dry_run": True,
        "rows": 6,
        "valid": 3,
        "invalid": 2,
        "duplicates": 1,
        "requests": 3,
        "rate_limit": 2,
        "seconds": 1.5,
        "rejects": f"{source}.rejects.csv",
    }
    assert served.server.requests == []
    assert phones(served) == {}


def test_an_aborted_import_shows_what_was_done_then_the_error(
    served: ServerThread, tmp_path: Path
) -> None:
    source = write(tmp_path / "in.csv", "name,phone\nAwa,+22997000001\nBad,1\n")
    served.call(lambda: served.server.inject_response(status=401, code="UNAUTHORIZED"))

    result = invoke(served, "import", str(source), "--concurrency", "1", "--json")

    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["invalid"]) == (0, 1)
    [line] = error_lines(result.stderr)
    assert line.startswith("Error: ImportAbortedError: the import stopped")
    assert "AuthenticationError" in line
    assert "(request_id=" in line


# --- export -------------------------------------------------------------------------------


def test_export_members_by_name_to_csv_reads_back_for_an_import(
    served: ServerThread, tmp_path: Path
) -> None:
    group_with_members(served, "Fair", 120)
    output = tmp_path / "members.csv"
    state = tmp_path / "members.state"

    exported = invoke(served, "export", "members", "Fair", "-o", str(output), "--state", str(state))
    resumed = invoke(served, "export", "members", "Fair", "-o", str(output), "--state", str(state))
    reimported = invoke(served, "import", str(output), "--json")

    assert exported.exit_code == resumed.exit_code == reimported.exit_code == 0
    assert lines(exported.stderr)[-1].startswith(f"Exported 120 members to {output} in ")
    with open(output, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 120
    assert list(rows[0]) == [
        "id", "name", "phone", "tags", "meta", "created_at", "updated_at", "added_at"
    ]  # fmt: skip
    assert json.loads(state.read_text())["done"] is True
    assert json.loads(reimported.stdout)["existing"] == 120


def test_export_contacts_to_stdout_as_ndjson(served: ServerThread) -> None:
    served.call(served.server.workspace().seed_contacts, 3)

    ndjson = invoke(served, "export", "contacts")
    camel = invoke(served, "export", "contacts", "--format", "csv", "--by-alias")
    unknown = invoke(served, "export", "members", "Nope")

    contacts = [json.loads(line) for line in ndjson.stdout.splitlines()]
    assert [contact["name"] for contact in contacts] == [
        "Contact 0000003", "Contact 0000002", "Contact 0000001"
    ]  # fmt: skip
    assert camel.stdout.splitlines()[0] == "id,name,phone,tags,meta,createdAt,updatedAt"
    assert len(camel.stdout.splitlines()) == 4
    assert unknown.exit_code == 1
    assert error_lines(unknown.stderr) == ["Error: no group has the name or the id 'Nope'"]
