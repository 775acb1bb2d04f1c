#!/usr/bin/env bash
# test_portsec_agent.sh: test_portsec_dhcp.sh with the agents snooping DHCP
# themselves (--dhcp-snoop agent, seed FIG. 4): each builds the binding
# from the ACK, enforces it at once and reports it; mignetd stores it with
# origin "agent" and sends it back in an install.  Same assertions.
# Needs root and Open vSwitch (else exit 77).
PS_SNOOP=agent exec bash "$(dirname "$0")/test_portsec_dhcp.sh"
