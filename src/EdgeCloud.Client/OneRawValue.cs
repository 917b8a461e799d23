namespace EdgeCloud.Client;

/// <summary>
/// A parameter whose XML is inserted verbatim between <c>&lt;value&gt;</c> and <c>&lt;/value&gt;</c>, for sending what
/// no .NET type maps to: bare untyped text, an out-of-range <c>&lt;i4&gt;</c>, an unknown type tag, broken markup.
/// Meant for tests of the server's strictness.
/// </summary>
/// <param name="Xml">The raw inner XML of the value element.</param>
public sealed record OneRawValue(string Xml);
