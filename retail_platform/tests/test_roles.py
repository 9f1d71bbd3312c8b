import pytest
from django.contrib.auth.models import Group

from retail_platform import roles


@pytest.mark.django_db
def test_role_groups_exist_after_migrations() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "analyst"}


@pytest.mark.django_db
def test_each_role_includes_the_ones_before_it(viewer, analyst, staff) -> None:
    assert roles.user_is_viewer(viewer) and not roles.user_is_analyst(viewer)
    assert roles.user_is_analyst(analyst) and roles.user_is_viewer(analyst) and not roles.user_is_staff(analyst)
    assert roles.user_is_staff(staff) and roles.user_is_analyst(staff) and roles.user_is_viewer(staff)


@pytest.mark.django_db(transaction=True)
def test_role_groups_come_back_after_a_flush() -> None:
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "analyst"}
