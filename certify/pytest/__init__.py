"""certify inside pytest: the cell plugin, the durable recorder, retries and Allure results.

pytest loads these by module path (``-p certify.pytest.plugin``); scenario authors use the small
public module `certify.scenario` instead of importing from here.
"""
