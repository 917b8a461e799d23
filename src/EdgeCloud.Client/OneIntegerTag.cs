namespace EdgeCloud.Client;

/// <summary>How integers are tagged on the wire. Both mean the same; having both lets tests act like either real client.</summary>
public enum OneIntegerTag
{
    /// <summary><c>&lt;i4&gt;</c>, as the Ruby OCA and CLI send.</summary>
    I4,

    /// <summary><c>&lt;int&gt;</c>, as pyone sends.</summary>
    Int,
}
