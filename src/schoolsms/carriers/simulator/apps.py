from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "schoolsms.carriers.simulator"
    label = "carrier_simulator"
