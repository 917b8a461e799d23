namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// The kinds of XML-RPC value. <see cref="Nil"/> is zero so that <c>default(XmlRpcValue)</c> is a valid nil
/// rather than an invalid half-built value.
/// </summary>
public enum XmlRpcType : byte
{
    /// <summary><c>&lt;nil/&gt;</c> (the common extension); also the default value.</summary>
    Nil = 0,

    /// <summary>32-bit integer, <c>&lt;i4&gt;</c> (Ruby) or <c>&lt;int&gt;</c> (pyone): the same type on the wire.</summary>
    Int,

    /// <summary>64-bit integer, <c>&lt;i8&gt;</c> (xmlrpc-c extension; OpenNebula uses it for Raft indexes).</summary>
    I8,

    /// <summary><c>&lt;boolean&gt;</c>, only <c>0</c> or <c>1</c>.</summary>
    Boolean,

    /// <summary><c>&lt;string&gt;</c>, or a <c>&lt;value&gt;</c> with bare text.</summary>
    String,

    /// <summary><c>&lt;double&gt;</c>.</summary>
    Double,

    /// <summary><c>&lt;dateTime.iso8601&gt;</c>.</summary>
    DateTime,

    /// <summary><c>&lt;base64&gt;</c>.</summary>
    Base64,

    /// <summary><c>&lt;array&gt;&lt;data&gt;...</c>.</summary>
    Array,

    /// <summary><c>&lt;struct&gt;&lt;member&gt;...</c>.</summary>
    Struct,
}
