"""Handing the city's road network to the platform's traffic service
(`POST /api/v1/traffic/network/import`), so its segments exist and its detector stations are
placed on them by the names of the devices just provisioned.

Best effort: a platform without the traffic service (404) or a key without `traffic:write`
(403) still gets the city's readings; the reason is logged.
"""

from __future__ import annotations

import logging

import httpx

from roadwatch.simulation.city import Network, to_geojson
from roadwatch.simulation.provision import RegistryClient

log = logging.getLogger("roadwatch.simulation")

IMPORT_PATH = "/api/v1/traffic/network/import"


async def upload_network(registry: RegistryClient, network: Network, prefix: str) -> bool:
    """Whether the platform took the network (importing it again changes nothing there)."""
    names = {site.id: f"{prefix}-{site.id}" for site in network.detectors}
    body = to_geojson(network, names)
    await registry.pacer.acquire()
    try:
        answer = await registry.http.post(IMPORT_PATH, json=body, headers=registry.auth_headers)
    except httpx.HTTPError as exc:
        log.warning("could not upload the road network (%s); streaming without it", exc)
        return False
    if answer.status_code == 404:
        log.info("the platform has no traffic service; the road network was not uploaded")
        return False
    if answer.status_code == 403:
        log.warning(
            "the road network was not uploaded: the credentials lack traffic:write "
            "(give the API key that scope to see the city in the traffic service)"
        )
        return False
    if not answer.is_success:
        log.warning(
            "the platform refused the road network: %s %s", answer.status_code, answer.text[:500]
        )
        return False
    report = answer.json()
    log.info(
        "road network uploaded: %s segments created, %s updated; %s detectors placed",
        report["created"]["segments"],
        report["updated"]["segments"],
        report["created"]["detectors"] + report["updated"]["detectors"],
    )
    return True
