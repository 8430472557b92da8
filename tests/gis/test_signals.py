"""map_data_changed: sent once per committed transaction that changed a mapped table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from gis import history, services
from gis.models import Building, Room
from gis.signals import map_data_changed

from ..factories import RoomFactory, box


@pytest.fixture
def received() -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    map_data_changed.connect(receiver, dispatch_uid="test-received")
    yield calls
    map_data_changed.disconnect(dispatch_uid="test-received")


def test_sent_once_after_commit_for_many_changes(
    territory, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n in range(3):
            services.save_building(
                actor=None, data={"footprint": box(112.12, 32.02 + n / 1000, 112.1205, 32.0205)}
            )
        assert received == []  # not before the commit
    assert len(received) == 1
    assert received[0]["sender"] is None


def test_not_sent_when_rolled_back(territory, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.save_building(
                actor=None, data={"footprint": box(112.12, 32.02, 112.121, 32.021)}
            )
            raise RuntimeError
        assert received == []
        # A later change in the same (test) transaction registers again.
        services.save_building(actor=None, data={"footprint": box(112.12, 32.03, 112.121, 32.031)})
    assert len(received) == 1


def test_room_edits_are_not_announced_but_deletes_are(
    territory, received, django_capture_on_commit_callbacks
):
    room = RoomFactory(building=territory.home_building)
    with django_capture_on_commit_callbacks(execute=True):
        services.save_room(actor=None, data={"use": "vacant"}, instance=room)
    assert received == []
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_object(actor=None, instance=room)  # its door plate would go with it
    assert len(received) == 1


def test_undo_announces_as_the_services_it_calls_do(
    territory, received, django_capture_on_commit_callbacks
):
    room = RoomFactory(building=territory.home_building)
    services.save_room(actor=None, data={"use": "vacant"}, instance=room)
    change = history.changes_of(Room, room.pk)[-1]
    with django_capture_on_commit_callbacks(execute=True):
        history.undo_change(actor=None, model=Room, pk=room.pk, event_id=change.event_id)
    assert received == []  # a room's edit is not drawn
    with django_capture_on_commit_callbacks(execute=True):  # its own transaction
        building = services.save_building(
            actor=None, data={"footprint": box(112.12, 32.02, 112.121, 32.021)}
        )
    received.clear()
    change = history.changes_of(Building, building.pk)[-1]
    with django_capture_on_commit_callbacks(execute=True):
        history.undo_change(actor=None, model=Building, pk=building.pk, event_id=change.event_id)
    assert len(received) == 1  # undoing the insert deletes the building


def test_bulk_add_is_announced(territory, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.bulk_add([Building(footprint=box(112.13, 32.02, 112.131, 32.021))])
    assert len(received) == 1
