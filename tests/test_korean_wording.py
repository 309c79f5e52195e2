"""Korean messages read as Korean: no particle left for the reader to pick, no formal endings
among the 해요체 of the rest, and no developers' jargon.

A particle after a value depends on the value's last sound (메모를, 책을, Memo를?), so a
sentence with a value is written to need none; each message is rendered with a Latin, a
vowel-final and a consonant-final value to check it.
"""

import re

import pytest

from devenv.catalogs import catalog_path, read_catalog, strings

VALUES = ["Memo", "메모", "책"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# "(으)로", "이(가)", "을(를)" and the like: a choice left to the reader.
PARTICLE_CHOICE = re.compile(
    r"\((?:으|이|을|를|은|는|와|과|가|아|야)\)|[을를은는이가와과]\([을를은는이가와과]\)"
)
# A particle whose form depends on the last sound of the value it follows (메모를, 책을).
PARTICLE_AFTER_VALUE = re.compile(r"%\(\w+\)s(?:예요|이에요|을|를|이|가|은|는|로|으로|와|과)")
FORMAL_ENDING = re.compile(r"(?:습|ㅂ)?니다[.?!]?(?:\s|$)")
JARGON = ["세션", "불용어", "루프백", "MIME", "application/", "octet-stream"]


def korean_messages():
    """Yield (English source, Korean string) of every message, each plural form apart."""
    for message in read_catalog(catalog_path("ko")):
        if message.id:
            source = message.id if isinstance(message.id, str) else message.id[0]
            yield from ((source, string) for string in strings(message))


MESSAGES = list(korean_messages())


def rendered(string, value):
    return PLACEHOLDER.sub(lambda match: value if match.group(0).endswith("s") else "3", string)


def test_the_catalog_is_read():
    assert len(MESSAGES) > 300


@pytest.mark.parametrize("value", VALUES)
def test_no_message_leaves_a_particle_for_the_reader_to_choose(value):
    choices = [
        source for source, string in MESSAGES if PARTICLE_CHOICE.search(rendered(string, value))
    ]
    assert choices == []


def test_no_message_puts_a_sound_dependent_particle_right_after_a_value():
    assert [source for source, string in MESSAGES if PARTICLE_AFTER_VALUE.search(string)] == []


def test_messages_speak_haeyo_not_the_formal_style():
    assert [source for source, string in MESSAGES if FORMAL_ENDING.search(string)] == []


def test_messages_use_no_jargon():
    assert [
        (source, word) for source, string in MESSAGES for word in JARGON if word in string
    ] == []


# Messages about reminders and what a device shows of them (sources naming either).
REMINDER_OR_NOTIFICATION = re.compile(r"remind|notif|snooze", re.IGNORECASE)
# The browser's own setting, named 알림 in Chromium's and Safari's Korean site settings.
BROWSER_SETTING = "사이트 설정에서 알림을 허용"


def test_the_reminder_and_the_devices_notification_each_have_their_word():
    """리마인더 is the reminder, which mail always brings; 기기 알림 is the notification a
    device shows of it. 알림 alone would name either (issue 79)."""
    about = [
        (source, string) for source, string in MESSAGES if REMINDER_OR_NOTIFICATION.search(source)
    ]
    bare = [
        source
        for source, string in about
        if re.search(r"(?<!기기 )알림", string.replace(BROWSER_SETTING, ""))
    ]
    assert bare == []
    unnamed = [
        source
        for source, string in about
        if re.search(r"notification", source, re.IGNORECASE) and "기기 알림" not in string
    ]
    assert unnamed == []
