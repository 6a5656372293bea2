"""Publisher-confirm bookkeeping: every published tag is settled exactly once, whatever order
the broker confirms in. RabbitMQ was seen acking 6, 8 and 10 singly, then 9 with `multiple`,
which must settle 5, 7 and 9 as well (an earlier version stopped at the first settled tag,
left 5 and 7 waiting until the confirm timeout, and the relay republished the batch forever)."""

from services.kernel.runtime.publisher import ConfirmingPublisher


def _publisher_with_pending(tags: range) -> ConfirmingPublisher:
    publisher = ConfirmingPublisher("amqp://unused/")
    publisher._pending = set(tags)
    return publisher


def test_a_multiple_ack_settles_every_pending_tag_below_it_even_after_later_single_acks() -> None:
    publisher = _publisher_with_pending(range(1, 11))
    ack = publisher._settle(True)
    for tag in (1, 2, 3, 4):
        ack(tag, False)
    for tag in (6, 8, 10):
        ack(tag, False)
    ack(9, True)  # covers 5, 7 and 9

    assert publisher._pending == set()
    assert publisher._outcome == {tag: True for tag in range(1, 11)}


def test_a_multiple_nack_marks_only_the_still_pending_tags_as_refused() -> None:
    publisher = _publisher_with_pending(range(1, 6))
    publisher._settle(True)(2, False)
    publisher._settle(False)(4, True)  # 1, 3, 4 refused; 2 stays confirmed

    assert publisher._outcome == {1: False, 2: True, 3: False, 4: False}
    assert publisher._pending == {5}


def test_a_confirm_for_an_unknown_or_settled_tag_changes_nothing() -> None:
    publisher = _publisher_with_pending(range(1, 3))
    ack = publisher._settle(True)
    ack(1, False)
    publisher._settle(False)(1, False)  # duplicate, and a nack cannot overturn an ack
    ack(7, False)  # from a previous channel

    assert publisher._outcome == {1: True}
    assert publisher._pending == {2}
