"""COPY into the register's tables: geometries checked like the services check them, the history
written as the row trigger writes it, errors as domain errors."""

from __future__ import annotations

import pghistory
import pytest
import shapely
from django.apps import apps

from data.city.copy import Copier, _InsertHistory, geometry_ewkb
from gis import services
from gis.exceptions import ConflictError, GeometryError
from gis.history import event_model
from gis.models import Landlord
from tests.conftest import Territory

SQUARE = shapely.box(112.10, 32.00, 112.11, 32.01)
LANDLORD_FIELDS = ("id", "name", "phone", "community")


def test_geometries_become_hex_ewkb_in_4326() -> None:
    (ewkb,) = geometry_ewkb([SQUARE], geom_type="Polygon")
    back = shapely.from_wkb(ewkb)
    assert shapely.get_srid(back) == 4326
    assert back.equals_exact(SQUARE, 0)
    (plan,) = geometry_ewkb([shapely.box(0, 0, 5, 4)], geom_type="Polygon", srid=0)
    assert shapely.get_srid(shapely.from_wkb(plan)) == 0


BOW_TIE = shapely.Polygon([(112.1, 32.0), (112.2, 32.1), (112.2, 32.0), (112.1, 32.1)])
TALL = shapely.Polygon([(112.1, 32.0, 1), (112.2, 32.1, 1), (112.2, 32.0, 1)])


@pytest.mark.parametrize(
    ("geometry", "geom_type", "code"),
    [
        (shapely.LineString([(112.1, 32.0), (112.2, 32.1)]), "Polygon", "wrong_type"),
        (BOW_TIE, "Polygon", "invalid_geometry"),
        (shapely.box(600_000, 3_500_000, 600_010, 3_500_010), "Polygon", "out_of_range"),
        (TALL, "Polygon", "three_dimensional"),
        (shapely.Polygon(), "Polygon", "empty_geometry"),
        (shapely.MultiPolygon([BOW_TIE]), "MultiPolygon", "invalid_geometry"),
    ],
)
def test_a_bad_geometry_raises_the_services_error(
    geometry: shapely.Geometry, geom_type: str, code: str
) -> None:
    good = SQUARE if geom_type == "Polygon" else shapely.MultiPolygon([SQUARE])
    with pytest.raises(GeometryError) as error:
        geometry_ewkb([good, geometry, good], geom_type=geom_type)
    assert error.value.code == code


def test_a_polygon_is_promoted_where_a_multipolygon_is_stored() -> None:
    """As ``clean_geometry`` does."""
    (ewkb,) = geometry_ewkb([SQUARE], geom_type="MultiPolygon")
    assert shapely.from_wkb(ewkb).equals(shapely.MultiPolygon([SQUARE]))
    assert shapely.from_wkb(ewkb).geom_type == "MultiPolygon"


def test_a_bad_plan_is_refused() -> None:
    bow_tie = shapely.Polygon([(0, 0), (4, 4), (4, 0), (0, 4)])
    with pytest.raises(ValueError, match="Self-intersection"):
        geometry_ewkb([bow_tie], geom_type="Polygon", srid=0)


def test_every_tracked_model_has_its_insert_statement() -> None:
    """The statement fills every column of the event table (else it refuses to be built)."""
    tracked = [m for m in apps.get_app_config("geo").get_models() if hasattr(m, "pgh_event_models")]
    assert len(tracked) >= 10
    for model in tracked:
        history = _InsertHistory.of(model)
        assert history is not None, model.__name__
        assert history.name.startswith("pgtrigger_insert_insert_"), model.__name__
        assert event_model(model)._meta.db_table in history.statement


@pytest.mark.django_db
def test_copied_rows_get_the_event_the_row_trigger_writes(territory: Territory) -> None:
    copier = Copier()
    community = territory.home
    with pghistory.context(user=None) as context:
        copier.attach_history_context(context)
        with copier.row_history_off([Landlord]):
            (pk,) = copier.reserve_ids(Landlord, 1)
            copier.copy(Landlord, LANDLORD_FIELDS, [(pk, "王伟", "13800000000", community.pk)])
        by_trigger = services.save_landlord(
            actor=None, data={"name": "王伟", "phone": "13800000000", "community": community}
        )
        # Outside the block, COPY fires the row trigger.
        (fired,) = copier.reserve_ids(Landlord, 1)
        copier.copy(Landlord, LANDLORD_FIELDS, [(fired, "李娜", "", community.pk)])
    events = event_model(Landlord)._default_manager
    fields = [
        f.attname
        for f in event_model(Landlord)._meta.concrete_fields
        if f.attname not in ("pgh_id", "pgh_obj_id", "id")
    ]
    triggered, copied = events.get(pgh_obj_id=by_trigger.pk), events.get(pgh_obj_id=pk)
    assert {f: getattr(copied, f) for f in fields} == {f: getattr(triggered, f) for f in fields}
    assert copied.pgh_context_id == context.id
    assert events.get(pgh_obj_id=fired, pgh_label="insert").pgh_context_id == context.id
    assert events.count() == 3


@pytest.mark.django_db
def test_a_broken_rule_is_a_domain_error_and_the_transaction_goes_on(
    territory: Territory,
) -> None:
    copier = Copier()
    (pk,) = copier.reserve_ids(Landlord, 1)
    row = (pk, "王伟", "13800000000", territory.home.pk)
    copier.copy(Landlord, LANDLORD_FIELDS, [row])
    with pytest.raises(ConflictError, match="geo_landlord_pkey"):
        copier.copy(Landlord, LANDLORD_FIELDS, [row])
    assert Landlord.objects.filter(pk=pk).count() == 1  # the transaction is still usable


@pytest.mark.django_db
def test_reserved_ids_are_not_handed_out_again(territory: Territory) -> None:
    reserved = Copier().reserve_ids(Landlord, 3)
    assert len(set(reserved)) == 3 and reserved == sorted(reserved)
    saved = services.save_landlord(
        actor=None, data={"name": "王伟", "phone": "", "community": territory.home}
    )
    assert saved.pk not in reserved


@pytest.mark.django_db
def test_row_history_off_switches_the_row_trigger_off_inside_the_block_only(
    territory: Territory,
) -> None:
    copier = Copier()
    events = event_model(Landlord)._default_manager
    with copier.row_history_off([Landlord]):
        (pk,) = copier.reserve_ids(Landlord, 1)
        copier.copy(Landlord, LANDLORD_FIELDS, [(pk, "王伟", "", territory.home.pk)])
        # Not through the copier: unrecorded (why only the copier may write inside the block).
        unrecorded = Landlord.objects.create(name="李娜", community=territory.home)
    recorded = services.save_landlord(
        actor=None, data={"name": "张敏", "phone": "", "community": territory.home}
    )
    assert events.filter(pgh_obj_id=pk, pgh_label="insert").count() == 1
    assert not events.filter(pgh_obj_id=unrecorded.pk).exists()
    assert events.filter(pgh_obj_id=recorded.pk, pgh_label="insert").count() == 1
