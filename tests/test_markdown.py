"""A note's Markdown on the note page and a shared page: rendered, sanitised, never active.

Every construct that could carry markup is tried (raw HTML, links, images, attributes,
autolinks, tables, code), on both pages, against the real database; then what reads plain
text instead of markup: tags, search, the word count.
"""

import re
from html import unescape

import pytest

from devenv.visitors import Browser
from tests.noting import content_of, make_link, note_id_of

# What a rendered note may hold: the allow-list's tags, and the note page's task buttons.
SAFE_TAGS = {
    *("p", "br", "hr", "blockquote", "pre", "code", "em", "strong", "s", "a", "span"),
    *("h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "button"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
SAFE_ATTRIBUTES = {
    *("href", "rel", "title", "class", "start", "role", "aria-label"),
    *("type", "form", "formaction", "name", "value", "id"),  # a task's button
    "tabindex",  # a table's or code block's, Memo's own: it scrolls by keyboard
}
RENDERED = re.compile(
    r'<div class="content markdown">(.*?)</div>\s*(?:<form id="task-form"|\n)', re.S
)
TAG = re.compile(r"<(/?)([a-zA-Z0-9]+)([^>]*)>")
ATTRIBUTE = re.compile(r'\s([^\s=]+)(?:="([^"]*)")?')

ATTACKS = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example/"></iframe>',
    '<a href="javascript:alert(1)">raw link</a>',
    '<div style="position:fixed" onclick="alert(1)">styled</div>',
    "<svg onload=alert(1)>",
    "[link](javascript:alert(1))",
    "[link](JaVaScRiPt:alert(1))",
    "[link](java&#x09;script:alert(1))",
    "[link](  javascript:alert(1)  )",
    "[link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[link](vbscript:msgbox(1))",
    "[ref link][r]\n\n[r]: javascript:alert(1)",
    '[title](https://a.example/ "x\\" onmouseover=\\"alert(1)")',
    '[quote](https://a.example/" onclick="alert(1))',
    "![image](https://evil.example/track.png)",
    "![image](javascript:alert(1))",
    "![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![alt" onerror="alert(1)](https://evil.example/x.png)',
    "<javascript:alert(1)>",
    '<https://a.example/"onmouseover="alert(1)>',
    'www.evil.example/"><script>alert(1)</script>',
    "javascript:alert(1) and https://ok.example/?q=<b>",
    "| <script>alert(1)</script> | [x](javascript:alert(1)) |\n|---|---|\n| <b>cell</b> | ok |",
    "```html\n<script>alert(1)</script>\n```",
    '- [ ] <img src=x onerror=alert(1)> task\n- [x] "><script>alert(1)</script>',
    "# <script>alert(1)</script> heading\n> <iframe>quoted</iframe>",
    "~~<s onclick=alert(1)>struck</s>~~ **<b>bold</b>** `<code>`",
]


def rendered(page):
    """Return the HTML a page shows of the note's content."""
    return RENDERED.search(page).group(1)


def assert_inert(html, rel):
    """Every tag and attribute is on the allow-list; every link is http(s) or mail and
    carries `rel`; nothing fetches or runs."""
    for closing, name, attributes in TAG.findall(html):
        assert name in SAFE_TAGS, name
        for attribute, value in ATTRIBUTE.findall(attributes):
            assert attribute in SAFE_ATTRIBUTES, (name, attribute)
            if attribute == "href":
                assert re.match(r"(https?:|mailto:)", unescape(value)), value
        if name == "a" and not closing:
            assert f'rel="{rel}"' in attributes
    assert "<img" not in html and "<script" not in html and "<iframe" not in html
    assert "javascript:" not in "".join(attrs for _, _, attrs in TAG.findall(html)).lower()


@pytest.mark.parametrize("attack", ATTACKS)
def test_markup_in_a_note_is_never_active_on_the_note_page_or_the_shared_page(app, user, attack):
    note = note_id_of(user.create_note("Attack", attack))
    assert_inert(rendered(user.get(f"/notes/{note}").get_data(as_text=True)), "nofollow noopener")
    stranger = Browser(app.test_client())
    shared = stranger.get(make_link(user, note).removeprefix(app.config["PUBLIC_URL"]))
    assert shared.status_code == 200
    assert_inert(rendered(shared.get_data(as_text=True)), "nofollow noopener noreferrer")


def test_raw_html_is_shown_as_text(user):
    note = note_id_of(user.create_note("Raw", "a <b>bold</b> claim"))
    html = rendered(user.get(f"/notes/{note}").get_data(as_text=True))
    assert "a &lt;b&gt;bold&lt;/b&gt; claim" in html


def test_an_image_is_a_link_to_it_and_is_never_fetched(app, user):
    note = note_id_of(user.create_note("Picture", "![the view](https://photos.example/view.jpg)"))
    html = rendered(user.get(f"/notes/{note}").get_data(as_text=True))
    assert '<a href="https://photos.example/view.jpg" rel="nofollow noopener">the view</a>' in html
    assert "<img" not in html


def test_markdown_renders_with_the_gfm_extensions(user):
    content = (
        "# Plan\n**bold** _it_ ~~old~~ `code`\nhttps://memo.example/x\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n1. one\n2. two"
    )
    html = rendered(user.get(f"/notes/{note_id_of(user.create_note('Rich', content))}").text)
    for piece in (
        "<h2>Plan</h2>",  # the page's title is its only h1
        "<strong>bold</strong> <em>it</em> <s>old</s> <code>code</code>",
        '<a href="https://memo.example/x" rel="nofollow noopener">https://memo.example/x</a>',
        "<td>1</td>",
        "<li>two</li>",
    ):
        assert piece in html


def test_plain_text_written_before_keeps_its_line_breaks(user):
    note = note_id_of(user.create_note("Plain", "milk\neggs\n\nand bread"))
    html = rendered(user.get(f"/notes/{note}").get_data(as_text=True))
    assert "<p>milk<br>\neggs</p>\n<p>and bread</p>" in html


# --- Task items ----------------------------------------------------------------------------

CHECKLIST = "Shopping:\n\n- [ ] milk\n- [x] eggs\n  - [ ] brown ones\n\n```\n- [ ] not a task\n```"
BUTTON = re.compile(
    r'<button type="submit" form="task-form" class="tick[^"]*" id="task-\d+"\s*'
    r'formaction="([^"]+)"\s*'
    r'name="done" value="([01])"\s*title="[^"]*"\s*aria-label="([^"]+)">'
)
TASK_FORM = re.compile(
    r'<form id="task-form" method="post" action="[^"]+">\s*'
    r'<input type="hidden" name="csrf_token" value="([^"]+)">\s*'
    r'<input type="hidden" name="version" value="(\d+)">\s*'
    r'<input type="hidden" name="next" value="([^"]+)">'
)


def task_buttons(browser, note):
    """Return the note page's task buttons as (action, fields as they would be sent, name)."""
    page = browser.get(f"/notes/{note}").get_data(as_text=True)
    token, version, back = TASK_FORM.search(page).groups()
    return [
        (
            unescape(action),
            {"csrf_token": token, "version": version, "next": back, "done": done},
            label,
        )
        for action, done, label in BUTTON.findall(page)
    ]


def test_each_task_is_a_named_button_that_ticks_it_without_the_editor(user):
    note = note_id_of(user.create_note("Shop", CHECKLIST))
    buttons = task_buttons(user, note)
    assert [label for _, _, label in buttons] == [
        "“milk”: not done",
        "“eggs”: done",
        "“brown ones”: not done",
    ]
    action, fields, _ = buttons[0]
    assert action == f"/notes/{note}/tasks/0?item=milk"  # the item's text as shown
    response = user.post(action, fields, csrf=False)
    # Back to the item ticked, not the top of the page.
    assert response.status_code == 302 and response.headers["Location"] == f"/notes/{note}#task-0"
    assert content_of(user, note) == CHECKLIST.replace("- [ ] milk", "- [x] milk")
    action, fields, _ = task_buttons(user, note)[1]
    user.post(action, fields, csrf=False)
    assert "- [ ] eggs" in content_of(user, note)
    # The list counts them.
    assert "1/3 done" in user.get("/").get_data(as_text=True)


def test_a_tick_goes_back_to_a_same_site_next_only(user):
    note = note_id_of(user.create_note("Shop", CHECKLIST))
    action, fields, _ = task_buttons(user, note)[0]
    fields = {**fields, "next": "/?sort=created"}
    assert user.post(action, fields, csrf=False).headers["Location"] == "/?sort=created"
    action, fields, _ = task_buttons(user, note)[0]
    fields = {**fields, "next": "https://evil.example/"}
    assert user.post(action, fields, csrf=False).headers["Location"] == f"/notes/{note}#task-0"


def test_a_stale_tick_gets_the_conflict_page_and_overwrites_nothing(user):
    note = note_id_of(user.create_note("Shop", CHECKLIST))
    action, stale, _ = task_buttons(user, note)[0]
    edited = CHECKLIST.replace("milk", "oat milk")
    user.post(f"/notes/{note}/edit", {"title": "Shop", "content": edited, "version": "1"})
    response = user.post(action, stale, csrf=False)
    assert response.status_code == 409
    assert "This note was changed meanwhile" in response.get_data(as_text=True)
    assert content_of(user, note) == edited


def test_a_tick_of_a_line_unchanged_elsewhere_applies_and_says_it_reread(user):
    note = note_id_of(user.create_note("Shop", CHECKLIST))
    buttons = task_buttons(user, note)
    edited = CHECKLIST.replace("Shopping:", "Shopping, Saturday:")  # another tab's edit
    user.post(f"/notes/{note}/edit", {"title": "Shop", "content": edited, "version": "1"})
    action, stale, _ = buttons[2]  # "brown ones", still as the page showed it
    response = user.post(action, stale, csrf=False)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/notes/{note}#task-2"
    page = user.get(f"/notes/{note}").get_data(as_text=True)
    assert "The note had changed meanwhile: your tick went on its newest text." in page
    assert content_of(user, note) == edited.replace("- [ ] brown", "- [x] brown")
    # The same old page's tick of the first item: still its line, so it applies too.
    action, stale, _ = buttons[0]
    assert user.post(action, stale, csrf=False).status_code == 302
    assert "- [x] milk" in content_of(user, note)


def test_a_tick_sent_without_the_items_text_still_needs_the_current_version(user):
    note = note_id_of(user.create_note("Shop", CHECKLIST))
    action, stale, _ = task_buttons(user, note)[0]
    user.post(f"/notes/{note}/edit", {"title": "Shop", "content": CHECKLIST + "!", "version": "1"})
    assert user.post(action.partition("?")[0], stale, csrf=False).status_code == 409


def test_a_tick_counts_as_a_note_write(app, user, monkeypatch):
    note = note_id_of(user.create_note("Shop", CHECKLIST))
    monkeypatch.setitem(app.config, "NOTE_WRITES_PER_MINUTE", 2)  # the create spent one
    action, fields, _ = task_buttons(user, note)[0]
    assert user.post(action, fields, csrf=False).status_code == 302
    action, fields, _ = task_buttons(user, note)[0]
    assert user.post(action, fields, csrf=False).status_code == 429


@pytest.mark.parametrize(
    ("path", "fields", "status"),
    [
        ("/tasks/0", {"done": "2", "version": "1"}, 400),
        ("/tasks/0", {"done": "1", "version": "one"}, 400),
        ("/tasks/0", {"done": "1"}, 400),
        ("/tasks/0", {"version": "1"}, 400),
        ("/tasks/3", {"done": "1", "version": "1"}, 404),  # the code block's is no task
        ("/tasks/99999", {"done": "1", "version": "1"}, 404),
        ("/tasks/-1", {"done": "1", "version": "1"}, 404),
    ],
)
def test_a_bad_tick_is_refused_with_a_4xx(user, path, fields, status):
    note = note_id_of(user.create_note("Shop", CHECKLIST))
    assert user.post(f"/notes/{note}{path}", fields).status_code == status
    assert content_of(user, note) == CHECKLIST


def test_another_users_tasks_are_404_and_a_tick_needs_csrf(user, other_user):
    note = note_id_of(user.create_note("Shop", CHECKLIST))
    path, tick = f"/notes/{note}/tasks/0", {"done": "1", "version": "1"}
    assert other_user.post(path, tick).status_code == 404
    assert user.post(path, tick, csrf=False).status_code == 400
    assert user.get(path).status_code == 405
    assert content_of(user, note) == CHECKLIST


def test_a_shared_page_shows_task_states_without_buttons(app, user):
    note = note_id_of(user.create_note("Shop", CHECKLIST))
    stranger = Browser(app.test_client())
    page = stranger.get(make_link(user, note).removeprefix(app.config["PUBLIC_URL"])).text
    assert '<span class="box done" role="img" aria-label="Done">☑</span> eggs' in page
    assert "<button" not in rendered(page) and "/tasks/" not in page


def test_the_editors_preview_renders_the_text_and_saves_nothing(app, user, count_rows):
    user.create_note()
    response = user.post("/notes/preview", {"content": "**bold** <b>raw</b>\n- [x] done"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<strong>bold</strong> &lt;b&gt;raw&lt;/b&gt;" in html
    assert 'aria-label="Done">☑</span> done' in html and "<button" not in html
    assert count_rows("note") == 1
    assert user.post("/notes/preview", {"content": "x" * 20_001}).status_code == 400
    assert Browser(app.test_client()).post("/notes/preview", {"content": "x"}).status_code == 302


# --- What reads the plain text -------------------------------------------------------------


def test_tags_search_and_word_counts_read_the_plain_text_not_the_markup(user):
    content = "**Quarterly** plans [see](https://x.example/?q=#notatag) #real\n\n- [ ] ship"
    note = note_id_of(user.create_note("Plans", content))
    page = user.get(f"/notes/{note}").get_data(as_text=True)
    assert "#real" in page and "notatag" not in re.findall(r'class="tag"[^>]*>#(\w+)', page)
    assert user.get("/?tag=notatag").get_data(as_text=True).count("Plans") == 0
    found = user.get("/search?q=quarterly").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', found, re.S).group(1)
    assert snippet.startswith("<mark>Quarterly</mark> plans see #real ship")
    counts = user.get(f"/notes/{note}/wordcount").get_data(as_text=True)
    words = set(re.findall(r'<td class="word">([^<]+)</td>', counts))
    assert {"quarterly", "plans", "ship"} <= words
    assert not {"https", "example", "notatag"} & words
