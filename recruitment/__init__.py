"""Recruitment: referral codes and rewards, recruitment channels and the funnel per source."""
