"""The columns of the regulator's published directory that the portal reads (docs/register.md says where
the layout comes from). The file has about a hundred more columns; the reader looks columns up by their
header, so their order and the ones it does not read do not matter."""

from __future__ import annotations

LOCATION_ID = "Location ID"
LOCATION_NAME = "Location Name"
DORMANT = "Dormant (Y/N)"
REGISTERED_MANAGER = "Registered manager"
LOCATION_ADDRESS = (
    "Location Street Address",
    "Location Address Line 2",
    "Location City",
    "Location County",
    "Location Postal Code",
)
PROVIDER_ID = "Provider ID"
PROVIDER_NAME = "Provider Name"
PROVIDER_ADDRESS = (
    "Provider Street Address",
    "Provider Address Line 2",
    "Provider City",
    "Provider County",
    "Provider Postal Code",
)
NOMINATED_INDIVIDUAL = "Provider Nominated Individual Name"
# One column per service type, "Y" where the location is registered for it.
SERVICE_TYPE_PREFIX = "Service type - "
# Only in the regulator's file of deactivated locations: a date here means the registration ended.
END_DATE = "Location HSCA End Date"

REQUIRED = (
    LOCATION_ID,
    LOCATION_NAME,
    DORMANT,
    REGISTERED_MANAGER,
    *LOCATION_ADDRESS,
    PROVIDER_ID,
    PROVIDER_NAME,
)
OPTIONAL = (*PROVIDER_ADDRESS, NOMINATED_INDIVIDUAL, END_DATE)

# The published sheet starts with its header row; a copy saved with a title line or two above it is still
# read, as long as the header is within this many lines.
HEADER_SEARCH_LINES = 10
