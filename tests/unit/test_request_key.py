from bot.slack.requests import MAX_KEY_LENGTH, request_key


def test_events_are_named_by_event_id_and_actions_by_trigger_id() -> None:
    event = {"event_id": "Ev1", "event": {"type": "reaction_added"}}
    assert request_key(event) == request_key({**event, "retry": 1})
    assert request_key({"event_id": "Ev2"}) != request_key(event)
    command = {"trigger_id": "123.456.abc", "text": "hello"}
    assert request_key(command) == request_key({**command, "response_url": "x"})
    assert request_key({"trigger_id": "123.456.abd"}) != request_key(command)


def test_keys_are_short_and_never_empty() -> None:
    for body in ({"event_id": "E" * 500}, {}, {"trigger_id": ""}, {"text": "\x00"}):
        key = request_key(body)
        assert 2 < len(key) <= MAX_KEY_LENGTH
