"""Settings for bench_twilio_ingest's server: the project's own, plus one bare view."""

from schoolsms.settings import *  # noqa: F403

ROOT_URLCONF = "ingest_urls"
