import factory
from factory.django import DjangoModelFactory

from channels.models import ChannelType, Partner, Role, Team, User


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"行业{n}组")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="zh_CN")
    role = Role.ACCOUNT_MANAGER
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class PhoneManagerFactory(UserFactory):
    role = Role.PHONE_ACCOUNT_MANAGER
    channel_type = factory.LazyFunction(lambda: ChannelType.objects.get(code="phone_account_manager"))


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"杭州合作{n}通信服务有限公司")
    channel_type = factory.LazyFunction(lambda: ChannelType.objects.get(code="social_channel"))
    is_core = True
    region_code = "330100"
    industries = factory.LazyFunction(list)
