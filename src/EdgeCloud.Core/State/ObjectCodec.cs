using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.State;

/// <summary>
/// The stored form of an object: JSON of its record. This is the store's format and the
/// replicated log's, not an API format (the APIs render OpenNebula XML).
/// </summary>
public static class ObjectCodec
{
    private static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            IncludeFields = false,
            WriteIndented = false,
        };
        o.Converters.Add(new TemplateJsonConverter());
        o.Converters.Add(new VectorAttributeJsonConverter());
        o.Converters.Add(new JsonStringEnumConverter());
        return o;
    }

    public static Type ClrType(ObjectType type) => type switch
    {
        ObjectType.User => typeof(User),
        ObjectType.Group => typeof(Group),
        ObjectType.Acl => typeof(AclRule),
        ObjectType.Zone => typeof(Zone),
        ObjectType.Cluster => typeof(Cluster),
        ObjectType.Host => typeof(Host),
        ObjectType.Datastore => typeof(Datastore),
        ObjectType.Image => typeof(Image),
        ObjectType.Template => typeof(VmTemplate),
        ObjectType.Vm => typeof(Vm),
        ObjectType.VNet => typeof(VNet),
        ObjectType.SecGroup => typeof(SecGroup),
        ObjectType.VmGroup => typeof(VmGroup),
        ObjectType.VNTemplate => typeof(VNTemplate),
        ObjectType.QuotaDefaults => typeof(QuotaDefaults),
        ObjectType.Market => typeof(Market),
        ObjectType.MarketApp => typeof(MarketApp),
        _ => throw new NotSupportedException($"no stored form for {type}"),
    };

    public static string Serialize(PoolObject value) => JsonSerializer.Serialize(value, value.GetType(), Options);

    public static byte[] SerializeUtf8(PoolObject value) => JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), Options);

    public static PoolObject Deserialize(ObjectType type, string json) =>
        (PoolObject)(JsonSerializer.Deserialize(json, ClrType(type), Options)
            ?? throw new InvalidDataException($"stored {type} is null"));

    public static PoolObject Deserialize(ObjectType type, ReadOnlySpan<byte> utf8) =>
        (PoolObject)(JsonSerializer.Deserialize(utf8, ClrType(type), Options)
            ?? throw new InvalidDataException($"stored {type} is null"));

    /// <summary>Templates are stored as a JSON array of [name, value] or [name, {sub: value}] pairs.</summary>
    private sealed class TemplateJsonConverter : JsonConverter<Template>
    {
        public override Template Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var t = new Template();
            if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("template: array expected");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("template attribute: array expected");
                reader.Read();
                var name = reader.GetString() ?? "";
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) t.Add(new SingleAttribute(name, reader.GetString() ?? ""));
                else t.Add(ReadVector(ref reader, name));
                reader.Read(); // end of pair
            }
            return t;
        }

        public override void Write(Utf8JsonWriter writer, Template value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            foreach (var a in value.Attributes)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(a.Name);
                if (a is SingleAttribute s) writer.WriteStringValue(s.Value);
                else WriteVector(writer, (VectorAttribute)a);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
    }

    private sealed class VectorAttributeJsonConverter : JsonConverter<VectorAttribute>
    {
        public override VectorAttribute Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("vector: array expected");
            reader.Read();
            var name = reader.GetString() ?? "";
            reader.Read();
            var v = ReadVector(ref reader, name);
            reader.Read();
            return v;
        }

        public override void Write(Utf8JsonWriter writer, VectorAttribute value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            writer.WriteStringValue(value.Name);
            WriteVector(writer, value);
            writer.WriteEndArray();
        }
    }

    private static VectorAttribute ReadVector(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("vector body: object expected");
        var v = new VectorAttribute(name);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString() ?? "";
            reader.Read();
            v[key] = reader.GetString() ?? "";
        }
        return v;
    }

    private static void WriteVector(Utf8JsonWriter writer, VectorAttribute v)
    {
        writer.WriteStartObject();
        foreach (var (k, val) in v.Values) writer.WriteString(k, val);
        writer.WriteEndObject();
    }
}
