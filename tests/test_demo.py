"""``msgflash demo``: the tour runs against its own local server and shows what it claims."""

from __future__ import annotations

import re

from msgflash_async._demo import run_demo


async def test_the_demo_imports_through_faults_streams_and_deletes() -> None:
    lines: list[str] = []
    await run_demo(rows=60, rate_limit=1000, poll_interval=0.05, echo=lines.append)
    text = "\n".join(lines)
    assert "it allows 1000 requests/s per key for this demo (the real API: 10)" in text
    assert ">>> report = await client.contacts.import_many(" in text
    assert "57 created, 2 invalid, 1 duplicate, 0 failed, 57 added to the group" in text
    assert "row 58 invalid: phone must be an E.164 number" in text
    assert "row 59 invalid: name is required" in text
    assert "row 60 repeats the phone of row 1" in text
    retried = re.search(r"the SDK sent (\d+) requests again after faults", text)
    assert retried is not None
    assert int(retried.group(1)) > 0  # the seeded faults hit some creates, and were survived
    assert "the server holds 57 contacts: none twice" in text
    assert "streamed 57 members" in text
    assert "deleted 57, not found 0" in text
    assert lines[-1].endswith("now has 0 members; done")
