"""The demo's recruitment data: channels, a code per active member, referrals in several states."""

from collections import Counter

from sqlalchemy import func, select

import demo
from crowd.core.db import utcnow
from demo.recruitment import seed_recruitment
from members.models import Member
from onboarding.models import Application
from payouts.models.ledger import LedgerTransaction
from recruitment.models import RecruitmentChannel, Referral, ReferralCode


def test_the_demo_seeds_recruitment_once(db_session):
    demo.seed(members=40, customers=4, seed=3, history=False, echo=lambda *_: None)
    active = set(db_session.scalars(select(Member.id).where(Member.status == "active")))
    assert set(db_session.scalars(select(ReferralCode.member_id))) == active
    kinds = Counter(db_session.scalars(select(RecruitmentChannel.kind)))
    assert kinds == {"partner": 2, "campaign": 1}
    referrals = list(db_session.scalars(select(Referral)))
    states = Counter(r.status for r in referrals)
    assert states["rewarded"] == 2 and states["pending"] >= 1 and states["review"] >= 1
    for referral in referrals:
        assert referral.referrer_member_id in active
        source = db_session.scalar(
            select(Application.source).where(
                Application.member_id == referral.referred_member_id, Application.number == 1
            )
        )
        assert source == "referral"
    rewards = select(func.count()).where(LedgerTransaction.kind == "referral_reward")
    assert db_session.scalar(rewards) == 2

    assert seed_recruitment(1, utcnow()) == "recruitment already present"
    assert db_session.scalar(select(func.count()).select_from(Referral)) == len(referrals)
