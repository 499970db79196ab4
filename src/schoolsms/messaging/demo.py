"""Demo broadcasts: sent through the real pipeline by the worker `make run` starts."""

from __future__ import annotations

from schoolsms.core.demo import DemoDistrict
from schoolsms.messaging.services import broadcast_create, broadcast_send


def demo_extend(district: DemoDistrict) -> None:
    """Two broadcasts, so the Reports tab has rows within seconds of `make run`.

    The emergency one goes out at once, whatever the hour (quiet hours never hold
    emergencies); the other one waits for the recipients' quiet hours to end, as any
    ordinary broadcast would. The simulator's demo scenario makes some numbers fail."""
    org = district.organization
    emergency = broadcast_create(
        organization=org,
        name="Early dismissal: winter storm",
        text=(
            "Springfield Public Schools: due to the winter storm, all schools dismiss at "
            "12:30 PM today. Buses run 2 hours early. Reply HELP for help, STOP to end."
        ),
        created_by=district.admin,
        emergency=True,
    )
    broadcast_send(broadcast=emergency)
    picture_day = broadcast_create(
        organization=org,
        name="Picture day reminder",
        text="Lincoln Elementary: picture day is Thursday. Order forms went home in folders.",
        created_by=district.admin,
        schools=["Lincoln Elementary"],
    )
    broadcast_send(broadcast=picture_day)
