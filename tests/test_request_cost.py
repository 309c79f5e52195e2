"""A ceiling on what the hot pages cost the web process (issue #89): the statements each sends
and the Python functions it calls, counted from the WSGI call to the end of its teardown
(devenv/requestcost.py). Both counts repeat exactly once a page was served: a change that adds
work to every request fails here, with the number, not in a benchmark weeks later. Lower a
ceiling when a change cuts a count; raise one only with the reason in the commit.

Counted in the suite's process, whose writers' guard (tests/note_writers.py) listens to every
statement too: the figures are the suite's, a little above production's (bench/request_cost.py).
"""

from app.revalidation import SCRIPTS_COOKIE
from devenv.requestcost import counting

# (statements, Python calls) at most, for a list of 6 notes and a note with a checklist.
CEILINGS = {
    "the list": (2, 5_860),
    "the list's 304": (1, 1_575),
    # "Linked from" (issue #91): the notes linking to this one, read for the page and its tag.
    "a note page": (5, 8_400),
    "a note page's 304": (3, 2_100),
}


def test_the_hot_pages_stay_under_their_ceilings_of_statements_and_python_calls(app, user):
    user.client.set_cookie(SCRIPTS_COOKIE, "1")
    location = user.create_note("Plan", "- [ ] milk #shop").headers["Location"]
    for number in range(5):
        user.create_note(f"other {number}", "words #tag")
    user.get("/tags")  # the saves' message read
    measured = {}
    with counting(app) as counted:
        for name, path in (("the list", "/"), ("a note page", location)):
            for _ in range(2):  # the first fills the caches a process fills once
                tag = user.get(path).headers["ETag"]
                whole = counted.last
                assert user.get(path, headers={"If-None-Match": tag}).status_code == 304
            measured[name], measured[f"{name}'s 304"] = whole, counted.last
    over = {
        name: (len(measured[name].statements), measured[name].calls, ceiling)
        for name, ceiling in CEILINGS.items()
        if len(measured[name].statements) > ceiling[0] or measured[name].calls > ceiling[1]
    }
    assert over == {}, f"(statements, Python calls, ceilings) over: {over}"


def test_the_counts_repeat_exactly(app, user):
    user.client.set_cookie(SCRIPTS_COOKIE, "1")
    user.get("/")
    with counting(app) as counted:
        seen = []
        for _ in range(3):
            user.get("/")
            seen.append((len(counted.last.statements), counted.last.calls))
    assert len(set(seen)) == 1, seen
