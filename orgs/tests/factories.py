"""Factories for units and people, used by every app's tests."""

import factory

from orgs.models import Membership, Role, Unit, UnitKind, User


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"单位{n}")
    code = factory.Sequence(lambda n: f"U{n:05d}")
    kind = UnitKind.SCHOOL


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    real_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "Secret-pass-2024")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def member(unit: Unit, role: str = Role.TEACHER, **user_kwargs) -> User:
    """A new user with one membership."""
    user = UserFactory(**user_kwargs)
    Membership.objects.create(user=user, unit=unit, role=role)
    return user
