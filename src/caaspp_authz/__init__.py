"""caaspp_authz: who may do what in California's CAASPP and ELPAC assessment systems."""
