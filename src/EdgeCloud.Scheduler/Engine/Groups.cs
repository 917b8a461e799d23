using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Scheduler.Engine;

/// <summary>
/// One role of a VM group during a cycle: its rules and where its VMs are (running VMs and VMs
/// placed earlier in this cycle), so that affinity sees both.
/// </summary>
internal sealed class RoleState(VmGroup group, VmGroupRole role)
{
    public VmGroup Group { get; } = group;
    public VmGroupRole Role { get; } = role;
    public bool AntiAffined { get; } = string.Equals(role.Policy?.Trim(), "ANTI_AFFINED", StringComparison.OrdinalIgnoreCase);
    public bool Affined { get; } = string.Equals(role.Policy?.Trim(), "AFFINED", StringComparison.OrdinalIgnoreCase);
    public HashSet<int>? HostAffined { get; } = ParseIds(role.HostAffined);
    public HashSet<int>? HostAntiAffined { get; } = ParseIds(role.HostAntiAffined);

    /// <summary>Host id → number of this role's VMs there.</summary>
    public Dictionary<int, int> Locations { get; } = [];

    /// <summary>Other roles this one must not share hosts with (group ANTI_AFFINED rules).</summary>
    public List<RoleState> AntiAffinedRoles { get; } = [];

    /// <summary>The role's own set when its POLICY is AFFINED.</summary>
    public AffinedSet? OwnSet { get; set; }

    /// <summary>The merged set of the group AFFINED rules that name this role.</summary>
    public AffinedSet? RuleSet { get; set; }

    public string Describe() => $"role '{Role.Name}' of VM group {Group.Id}";

    public int Count(int hostId) => Locations.GetValueOrDefault(hostId);

    public void Move(int fromHost, int toHost)
    {
        if (fromHost >= 0 && Locations.TryGetValue(fromHost, out var n))
        {
            if (n <= 1) Locations.Remove(fromHost);
            else Locations[fromHost] = n - 1;
        }
        if (toHost >= 0) Locations[toHost] = Locations.GetValueOrDefault(toHost) + 1;
    }

    private static HashSet<int>? ParseIds(string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return null;
        var set = new HashSet<int>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)) set.Add(id);
        return set;
    }
}

/// <summary>
/// VMs that must share a host: the VMs of an AFFINED role, or of all roles joined by group
/// AFFINED rules (rules that share a role are merged, as OpenNebula reduces them). When none of
/// them runs yet, the first pending one leads: it needs a host with room for the whole set, and
/// the others follow it to that host in the same cycle.
/// </summary>
internal sealed class AffinedSet(string description)
{
    public string Description { get; } = description;
    public List<RoleState> Roles { get; } = [];

    /// <summary>This cycle's pending members in processing order.</summary>
    public List<VmRequest> Pending { get; } = [];

    public VmRequest? Leader => Pending.Count > 0 ? Pending[0] : null;

    /// <summary>Hosts running a member (excluding <paramref name="self"/> at its current host).</summary>
    public HashSet<int> Hosts(VmRequest self)
    {
        var hosts = new HashSet<int>();
        foreach (var r in Roles)
            foreach (var (host, n) in r.Locations)
                if (n - (self.Role == r && self.CurrentHostId == host ? 1 : 0) > 0) hosts.Add(host);
        return hosts;
    }
}

/// <summary>The VM-specific part of a placement: VM group rules for one VM at its turn.</summary>
internal sealed class VmConstraint
{
    public static readonly VmConstraint None = new();

    public RoleState? Role { get; init; }
    public VmRequest? Vm { get; init; }

    /// <summary>Hosts the VM may use at all (HOST_AFFINED ∩ hosts of its affined sets); null = any.</summary>
    public HashSet<int>? Allowed { get; init; }

    /// <summary>Set when the VM leads an affined set: the host must also fit these totals.</summary>
    public long AggregateCpu { get; init; }
    public long AggregateMem { get; init; }
    public long AggregateDiskMb { get; init; }
    public bool IsLeader { get; init; }
    public IReadOnlyList<AffinedSet> LedSets { get; init; } = [];

    public bool HasRules => Role is not null;

    /// <summary>Whether group rules forbid the host (allowed list, HOST_ANTI_AFFINED, anti-affinity).</summary>
    public bool Excludes(int hostId)
    {
        if (Allowed is not null && !Allowed.Contains(hostId)) return true;
        if (Role is null) return false;
        if (Role.HostAntiAffined?.Contains(hostId) == true) return true;
        var self = Vm!.CurrentHostId == hostId ? 1 : 0;
        if (Role.AntiAffined && Role.Count(hostId) - self > 0) return true;
        foreach (var other in Role.AntiAffinedRoles)
            if (other.Count(hostId) > 0) return true;
        return false;
    }
}

/// <summary>Builds the cycle's view of every VM group once, and resolves each VM's role.</summary>
internal sealed class GroupIndex
{
    private readonly Dictionary<(int Group, string Role), RoleState> _roles = [];
    private readonly Dictionary<int, RoleState> _byVm = [];
    private readonly Dictionary<int, VmGroup> _groups = [];
    private readonly StateSnapshot _snapshot;

    public GroupIndex(StateSnapshot snapshot)
    {
        _snapshot = snapshot;
        foreach (var g in snapshot.All<VmGroup>(ObjectType.VmGroup))
        {
            _groups[g.Id] = g;
            var byName = new Dictionary<string, RoleState>(StringComparer.Ordinal);
            foreach (var role in g.Roles)
            {
                var rs = new RoleState(g, role);
                byName[role.Name] = rs;
                _roles[(g.Id, role.Name)] = rs;
                foreach (var vmId in role.Vms)
                {
                    _byVm.TryAdd(vmId, rs);
                    if (snapshot.Get<Vm>(ObjectType.Vm, vmId) is { } vm && Occupies(vm)) rs.Move(-1, vm.HostId);
                }
                if (rs.Affined) rs.OwnSet = new AffinedSet($"affined {rs.Describe()}") { Roles = { rs } };
            }

            // Group-level AFFINED rules: merge rules that share a role (union-find over role names).
            var parent = new Dictionary<RoleState, RoleState>();
            RoleState Find(RoleState r)
            {
                while (parent.TryGetValue(r, out var p) && p != r) r = p;
                return r;
            }
            foreach (var rule in g.Template.GetAll("AFFINED").OfType<EdgeCloud.Core.Templates.SingleAttribute>())
            {
                var members = RolesOf(rule.Value, byName);
                foreach (var m in members) parent.TryAdd(m, m);
                for (var i = 1; i < members.Count; i++) parent[Find(members[i])] = Find(members[0]);
            }
            var sets = new Dictionary<RoleState, AffinedSet>();
            foreach (var r in parent.Keys.OrderBy(r => r.Role.Id))
            {
                var root = Find(r);
                if (!sets.TryGetValue(root, out var set))
                    sets[root] = set = new AffinedSet($"affined roles of VM group {g.Id}");
                set.Roles.Add(r);
                r.RuleSet = set;
            }
            foreach (var set in sets.Values)
                if (set.Roles.Count < 2) foreach (var r in set.Roles) r.RuleSet = null;

            foreach (var rule in g.Template.GetAll("ANTI_AFFINED").OfType<EdgeCloud.Core.Templates.SingleAttribute>())
            {
                var members = RolesOf(rule.Value, byName);
                foreach (var a in members)
                    foreach (var b in members)
                        if (a != b && !a.AntiAffinedRoles.Contains(b)) a.AntiAffinedRoles.Add(b);
            }
        }
    }

    /// <summary>A VM holds its host's capacity in these states (running, powered off, suspended).</summary>
    public static bool Occupies(Vm vm) =>
        vm.HostId >= 0 && vm.State is VmState.ACTIVE or VmState.POWEROFF or VmState.SUSPENDED;

    /// <summary>The VM's role: from the group's ROLE/VMS list, else from its VMGROUP attribute.</summary>
    public RoleState? Resolve(VmRequest vm, out string? error)
    {
        error = null;
        if (_byVm.TryGetValue(vm.Id, out var rs)) return rs;
        var gref = vm.GroupRef;
        if (gref is null) return null;
        var roleName = gref["ROLE"];
        VmGroup? group = null;
        if (gref.GetInt("VMGROUP_ID") is { } gid)
        {
            group = _groups.GetValueOrDefault(gid);
        }
        else if (gref["VMGROUP_NAME"] is { } gname)
        {
            var uid = gref.GetInt("VMGROUP_UID") ?? vm.Vm.Uid;
            var named = _groups.Values.Where(g => g.Name == gname).OrderBy(g => g.Id).ToList();
            group = named.FirstOrDefault(g => g.Uid == uid) ?? named.FirstOrDefault();
        }
        var what = gref.GetInt("VMGROUP_ID")?.ToString(CultureInfo.InvariantCulture) ?? $"'{gref["VMGROUP_NAME"]}'";
        if (group is null)
        {
            error = $"VM group {what} does not exist";
            return null;
        }
        if (roleName is null || !_roles.TryGetValue((group.Id, roleName), out rs))
        {
            error = $"VM group {group.Id} has no role '{roleName}'";
            return null;
        }
        // A pending VM that names a role but is not in its VMS list yet: place it as a member.
        return rs;
    }

    private static List<RoleState> RolesOf(string list, Dictionary<string, RoleState> byName) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => byName.GetValueOrDefault(n)).OfType<RoleState>().Distinct().ToList();

    public StateSnapshot Snapshot => _snapshot;
}
