#!/usr/bin/env python3
# A small external IPAM for the tests, following OpenNebula's IPAM driver protocol: the action is this
# file's name (register_address_range, unregister_address_range, get_address, allocate_address,
# free_address), $1 a request id, stdin the base64 of <IPAM_DRIVER_ACTION_DATA><AR>..</AR>[<ADDRESS>..]</..>.
# Its whole state is state.json next to it, under an exclusive lock, so concurrent calls never hand
# out one address twice. Every call is appended to calls.log.
import base64, fcntl, ipaddress, json, os, sys, xml.etree.ElementTree as ET

here = os.path.dirname(os.path.abspath(__file__))
action = os.path.basename(sys.argv[0])
doc = ET.fromstring(base64.b64decode(sys.stdin.read()))
ar = {e.tag: (e.text or "") for e in doc.find("AR")}
addr = {e.tag: (e.text or "") for e in doc.find("ADDRESS")} if doc.find("ADDRESS") is not None else {}

with open(os.path.join(here, "state.lock"), "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    path = os.path.join(here, "state.json")
    state = json.load(open(path)) if os.path.exists(path) else {"next_net": 0, "used": []}
    out, err = "", None
    if action == "register_address_range":
        # The IPAM decides the range: the next /24 of 10.77.0.0/16, from .1, as many addresses as asked.
        net = state["next_net"]; state["next_net"] = net + 1
        size = int(ar["SIZE"])
        out = 'AR = [ TYPE = "IP4", IP = "10.77.%d.1", SIZE = "%d", NETWORK_MASK = "255.255.255.0", GATEWAY = "10.77.%d.254", IPAM_NOTE = "from fileipam" ]' % (net, size, net)
    elif action == "get_address":
        first = ipaddress.ip_address(ar["IP"])
        free = [str(first + i) for i in range(int(ar["SIZE"])) if str(first + i) not in state["used"]]
        if not free: err = "no free address left in %s+%s" % (ar["IP"], ar["SIZE"])
        else:
            state["used"].append(free[0]); out = 'ADDRESS = [ IP = "%s", SIZE = "1" ]' % free[0]
    elif action == "allocate_address":
        if addr["IP"] in state["used"]: err = "address %s is in use" % addr["IP"]
        else: state["used"].append(addr["IP"])
    elif action == "free_address":
        state["used"] = [ip for ip in state["used"] if ip != addr["IP"]]
    json.dump(state, open(path + ".tmp", "w")); os.replace(path + ".tmp", path)
    with open(os.path.join(here, "calls.log"), "a") as log:
        log.write("%s %s %s\n" % (action, addr.get("IP", ar.get("IP", "")), "FAIL" if err else "OK"))
if err:
    sys.stderr.write(err + "\n"); sys.exit(1)
print(out)
