namespace EdgeCloud.Testing.Xsd;

/// <summary>A place where oned's output does not validate against its own XSD and we match oned.</summary>
/// <param name="Id">Short stable name.</param>
/// <param name="Reason">What oned does and why we follow it.</param>
/// <param name="Matches">Which schema findings this deviation explains.</param>
public sealed record KnownOnedDeviation(string Id, string Reason, Func<SchemaIssue, bool> Matches)
{
    public override string ToString() => Id;
}

/// <summary>
/// The complete allow-list of validation errors our documents may have. Each entry is oned behaviour the XSDs
/// do not describe; a test names the deviations it expects, any other finding fails it, and a named deviation
/// that does not occur fails it too (so this list cannot go stale).
/// </summary>
public static class KnownOnedDeviations
{
    /// <summary>vm.xsd requires TEMPLATE/TM_MAD_SYSTEM; oned adds it at the VM's first deploy.</summary>
    public static readonly KnownOnedDeviation VmTemplateWithoutTmMadSystem = new(
        "vm-template-without-tm-mad-system",
        "oned sets TEMPLATE/TM_MAD_SYSTEM from the system datastore when the VM is first deployed; a VM that " +
        "was never deployed (PENDING, HOLD) lacks it although vm.xsd declares it required.",
        i => ("/" + i.Path + "/").Contains("/VM/TEMPLATE/", StringComparison.Ordinal)
             && i.Message.Contains("TM_MAD_SYSTEM", StringComparison.Ordinal));

    /// <summary>host.xsd requires DISK_USAGE, FREE_DISK, MAX_DISK, USED_DISK in HOST_SHARE/DATASTORES.</summary>
    public static readonly KnownOnedDeviation UnmonitoredHostDatastores = new(
        "unmonitored-host-datastores",
        "oned's HOST_SHARE/DATASTORES is a template filled by monitoring; a host that was never monitored " +
        "shows <DATASTORES/> (or DISK_USAGE alone), while host.xsd requires DISK_USAGE, FREE_DISK, MAX_DISK and USED_DISK.",
        i => i.Path.EndsWith("HOST_SHARE/DATASTORES", StringComparison.Ordinal)
             && i.Message.Contains("incomplete content", StringComparison.Ordinal));

    /// <summary>monitoring_data.xsd only describes VM monitoring records.</summary>
    public static readonly KnownOnedDeviation HostMonitoringData = new(
        "host-monitoring-data",
        "one.host.monitoring / one.hostpool.monitoring return MONITORING_DATA holding host records as in " +
        "HOST/MONITORING (TIMESTAMP, ID, CAPACITY, SYSTEM); monitoring_data.xsd was written for VM records " +
        "(sorted CPU ... TIMESTAMP) and knows neither that order nor CAPACITY/SYSTEM.",
        i => i.Path.StartsWith("MONITORING_DATA/MONITORING", StringComparison.Ordinal)
             && i.Message.Contains("invalid child element", StringComparison.Ordinal));

    /// <summary>security_group.xsd closes RULE to PROTOCOL and RULE_TYPE.</summary>
    public static readonly KnownOnedDeviation SecurityGroupRuleAttributes = new(
        "security-group-rule-attributes",
        "OpenNebula security group rules carry RANGE, IP, SIZE, NETWORK_ID, ICMP_TYPE... and oned writes them " +
        "inside TEMPLATE/RULE; security_group.xsd allows only PROTOCOL and RULE_TYPE there.",
        i => i.Path.Contains("SECURITY_GROUP/TEMPLATE/RULE", StringComparison.Ordinal)
             && i.Message.Contains("invalid child element", StringComparison.Ordinal));

    /// <summary>vnet.xsd / vnet_pool.xsd close the AR sequence.</summary>
    public static readonly KnownOnedDeviation AddressRangeUserAttributes = new(
        "address-range-user-attributes",
        "OpenNebula keeps any attribute given to an address range (GATEWAY, DNS, PREFIX_LENGTH for IP6_STATIC...) " +
        "and oned writes it inside AR; the XSDs' AR sequence does not list them (and vnet_pool.xsd's AR " +
        "lists none of the IPv6 ones).",
        i => i.Path.Contains("AR_POOL/AR", StringComparison.Ordinal)
             && i.Message.Contains("invalid child element", StringComparison.Ordinal));

    public static readonly IReadOnlyList<KnownOnedDeviation> All =
    [
        VmTemplateWithoutTmMadSystem, UnmonitoredHostDatastores, HostMonitoringData, SecurityGroupRuleAttributes,
        AddressRangeUserAttributes,
    ];
}
