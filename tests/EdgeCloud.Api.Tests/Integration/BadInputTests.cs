using System.Net;
using System.Net.Http.Headers;
using System.Text;
using EdgeCloud.Client;
using EdgeCloud.Testing;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// Bad input of every kind against a populated front-end: malformed XML, unknown methods, wrong and
/// missing arguments, unknown ids, wrong credentials, template syntax errors, oversized requests.
/// Each gets the right fault or error, the daemon keeps serving, and nothing in the store changes.
/// </summary>
public abstract class BadInputTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private const int ParseError = -503, TypeError = -501, IndexError = -502, NoSuchMethod = -506, LimitExceeded = -509;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<FrontendHandle, Lazy<Task<World>>> Worlds = new();

    /// <summary>What the store holds while the bad calls arrive: a user, a running VM with an image disk and a NIC, a template.</summary>
    private sealed record World(int User, string UserSession, int Host, int Vm, int Template, int Image, int Net);

    private Task<World> WorldAsync() => Worlds.GetOrAdd(Fe, _ => new Lazy<Task<World>>(async () =>
    {
        var name = Unique("bad");
        var (uid, _) = await NewUserAsync(name);
        var host = await NewHostAsync();
        var image = await NewImageAsync();
        var net = await NewNetAsync(5, "10.66.0.1");
        var template = await Admin.CallIntAsync("one.template.allocate", VmTemplate(null, $"DISK = [ IMAGE_ID = {image} ]\nNIC = [ NETWORK_ID = {net} ]\n"));
        var vm = await Admin.CallIntAsync("one.template.instantiate", template, Unique("vm"), false, $"SCHED_REQUIREMENTS = \"ID = {host}\"", false);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        return new World(uid, $"{name}:pw-{name}", host, vm, template, image, net);
    })).Value;

    /// <summary>A raw exchange that must be answered with an XML-RPC fault, change nothing, and leave the daemon serving.</summary>
    private async Task<OneXmlRpcResponse> FaultUnchangedAsync(Func<Task<OneXmlRpcResponse>> exchange, int? faultCode, string? contains = null)
    {
        await WorldAsync();
        var before = await StoreDump.StableAsync(Fe);
        var answer = await exchange();
        Assert.True(answer.IsFault, $"expected a fault, got {answer}");
        if (faultCode is not null) Assert.Equal(faultCode, answer.FaultCode);
        if (contains is not null) Assert.Contains(contains, answer.FaultString, StringComparison.Ordinal);
        await AssertServingAsync();
        StoreDump.AssertSame(before, await StoreDump.TakeAsync(Fe));
        return answer;
    }

    private async Task<OneXmlRpcResponse> PostAsync(string body)
    {
        using var response = await Admin.PostRawAsync(body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
        return OneXmlRpc.ParseResponse(await response.Content.ReadAsByteArrayAsync());
    }

    private Task<OneXmlRpcResponse> RawAsync(string method, params object?[] parameters) => Admin.CallRawAsync(method, parameters);

    // ------------------------------------------------------------------ malformed bodies

    public static TheoryData<string, string> MalformedBodies => new()
    {
        { "truncated", "<?xml version=\"1.0\"?><methodCall><methodName>one.vm.info</methodName><params><param><value><string>x" },
        { "not-xml", "this is not XML at all" },
        { "empty", "" },
        { "no-method-name", "<methodCall><params/></methodCall>" },
        { "wrong-root", "<methodResponse><params/></methodResponse>" },
        { "dtd-entity", "<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><methodCall><methodName>one.system.version</methodName><params><param><value><string>&b;</string></value></param></params></methodCall>" },
        { "i4-overflow", "<methodCall><methodName>one.vm.info</methodName><params><param><value><string>a:b</string></value></param><param><value><i4>12345678901</i4></value></param></params></methodCall>" },
        { "i4-not-a-number", "<methodCall><methodName>one.vm.info</methodName><params><param><value><string>a:b</string></value></param><param><value><i4>twelve</i4></value></param></params></methodCall>" },
        { "unknown-type", "<methodCall><methodName>one.vm.info</methodName><params><param><value><string>a:b</string></value></param><param><value><bigint>1</bigint></value></param></params></methodCall>" },
        { "bad-boolean", "<methodCall><methodName>one.user.enable</methodName><params><param><value><string>a:b</string></value></param><param><value><i4>1</i4></value></param><param><value><boolean>yes</boolean></value></param></params></methodCall>" },
        { "unclosed-array", "<methodCall><methodName>one.user.allocate</methodName><params><param><value><array><data><value><i4>1</i4></value></data></value></param></params></methodCall>" },
    };

    [BackendTheory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Post_MalformedBody_ParseFaultAndNothingChanges(string kind, string body)
    {
        var fault = await FaultUnchangedAsync(() => PostAsync(body), ParseError);

        Assert.False(string.IsNullOrWhiteSpace(fault.FaultString), kind);
    }

    [BackendFact]
    public async Task Post_DeeplyNestedArrays_FaultAndNothingChanges()
    {
        var open = string.Concat(Enumerable.Repeat("<value><array><data>", 10_000));
        var close = string.Concat(Enumerable.Repeat("</data></array></value>", 10_000));
        var body = $"<methodCall><methodName>one.system.version</methodName><params><param>{open}{close}</param></params></methodCall>";

        await FaultUnchangedAsync(() => PostAsync(body), null);
    }

    // ------------------------------------------------------------------ unknown methods

    [BackendTheory]
    [InlineData("one.vm.explode")]
    [InlineData("one.nosuchobject.info")]
    [InlineData("system.listMethods")]
    public async Task Call_UnknownMethod_NoSuchMethodFaultAndNothingChanges(string method)
    {
        var fault = await FaultUnchangedAsync(() => RawAsync(method, Fe.AdminSession), NoSuchMethod);

        Assert.Contains(method, fault.FaultString, StringComparison.Ordinal);
        var ex = await Assert.ThrowsAsync<OneException>(() => Admin.CallAsync(method));
        Assert.Equal((Err.XmlRpcCall, NoSuchMethod), (ex.Code, ex.FaultCode));
    }

    // ------------------------------------------------------------------ wrong types, missing arguments

    [BackendFact]
    public async Task Call_WrongArgumentTypes_TypeFaultAndNothingChanges()
    {
        var w = await WorldAsync();
        var s = Fe.AdminSession;
        var cases = new (string Method, object?[] Params)[]
        {
            ("one.vm.action", [s, w.Vm, "terminate"]),                          // swapped
            ("one.user.enable", [s, w.User, 1]),                                // an int where a bool is expected
            ("one.vm.allocate", [s, VmTemplate(), 1]),
            ("one.vm.info", [s, w.Vm.ToString(System.Globalization.CultureInfo.InvariantCulture)]), // a string where an int is expected
            ("one.vm.info", [s, (long)w.Vm]),                                   // i8 where i4 is expected
            ("one.template.update", [s, w.Template, "A = 1", "1"]),
            ("one.user.allocate", [s, Unique("u"), "pw", "core", "1"]),         // a string where an array is expected
            ("one.user.allocate", [s, Unique("u"), "pw", "core", new object?[] { "1" }]), // an array of strings
            ("one.vm.deploy", [s, w.Vm, w.Host, 0, -1, ""]),
            ("one.host.status", [s, w.Host, true]),
            ("one.template.instantiate", [s, w.Template, Unique("v"), "false", "", false]),
            ("one.vm.migrate", [s, w.Vm, w.Host, 1, false, -1, 0]),
            ("one.vm.chmod", [s, w.Vm, 1, 1, 0, 0, 0, 0, 0, 0, 1.5]),
            ("one.acl.addrule", [s, 0x200000001, "5400000000", "3", "400000000"]),
        };

        foreach (var (method, parameters) in cases)
            await FaultUnchangedAsync(() => RawAsync(method, parameters), TypeError);
    }

    [BackendFact]
    public async Task Call_MissingArguments_IndexFaultAndNothingChanges()
    {
        var w = await WorldAsync();
        var s = Fe.AdminSession;
        var cases = new (string Method, object?[] Params)[]
        {
            ("one.vm.info", [s]),
            ("one.vm.action", [s, "terminate"]),
            ("one.user.allocate", [s, Unique("u")]),
            ("one.template.update", [s, w.Template]),
            ("one.vm.chmod", [s, w.Vm, 1, 1, 0]),
            ("one.vm.migrate", [s, w.Vm]),
        };

        foreach (var (method, parameters) in cases)
            await FaultUnchangedAsync(() => RawAsync(method, parameters), IndexError);
    }

    [BackendFact]
    public async Task Call_NoSessionOrANonStringSession_FaultAndNothingChanges()
    {
        await FaultUnchangedAsync(() => RawAsync("one.system.version"), IndexError);
        await FaultUnchangedAsync(() => RawAsync("one.system.version", 0), TypeError);
        await FaultUnchangedAsync(() => RawAsync("one.vm.action", true, "terminate", 0), TypeError);
    }

    [BackendFact]
    public async Task Call_ExtraTrailingArguments_Ignored()
    {
        var w = await WorldAsync();

        // The OCA's paginated listing sends a 4th int to every pool, one.imagepool.info included.
        var images = await Admin.InfoAsync("one.imagepool.info", -2, -1, -1, -1);

        Assert.Contains(w.Image, images.EntryIds());
        Assert.Equal(w.Vm, (await Admin.InfoAsync("one.vm.info", w.Vm, false, "extra", 7)).Int("ID"));
    }

    // ------------------------------------------------------------------ unknown ids

    public static TheoryData<string, string> InfoMethods => new()
    {
        { "one.user.info", "user" }, { "one.group.info", "group" }, { "one.host.info", "host" }, { "one.cluster.info", "cluster" },
        { "one.datastore.info", "datastore" }, { "one.image.info", "image" }, { "one.template.info", "template" },
        { "one.vm.info", "virtual machine" }, { "one.vn.info", "virtual network" }, { "one.secgroup.info", "security group" },
        { "one.vmgroup.info", "VM group" }, { "one.zone.info", "zone" },
    };

    [BackendTheory]
    [MemberData(nameof(InfoMethods))]
    public async Task Info_UnknownId_NoExistsNamingTheObject(string method, string objectName)
    {
        var ex = await FailsUnchangedAsync(() => Admin.CallAsync(method, 424242, false), Err.NoExists, $"[{method}] Error getting {objectName} [424242].");

        Assert.Equal(424242, ex.ResponseId);
    }

    public static TheoryData<string, object?[], string> WritesOnUnknownIds => new()
    {
        { "one.vm.action", ["terminate", 424242], "virtual machine" },
        { "one.vm.update", [424242, "A = 1", 1], "virtual machine" },
        { "one.vm.rename", [424242, "x"], "virtual machine" },
        { "one.vm.chown", [424242, 0, 0], "virtual machine" },
        { "one.vm.resize", [424242, "MEMORY = 128", false], "virtual machine" },
        { "one.template.delete", [424242, false], "template" },
        { "one.template.instantiate", [424242, "x", false, "", false], "template" },
        { "one.template.chmod", [424242, 1, 1, 0, 0, 0, 0, 0, 0, 0], "template" },
        { "one.image.delete", [424242, false], "image" },
        { "one.image.enable", [424242, false], "image" },
        { "one.vn.delete", [424242], "virtual network" },
        { "one.vn.add_ar", [424242, "AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 2 ]"], "virtual network" },
        { "one.user.delete", [424242], "user" },
        { "one.user.passwd", [424242, "x"], "user" },
        { "one.group.delete", [424242], "group" },
        { "one.host.delete", [424242], "host" },
        { "one.host.status", [424242, 1], "host" },
        { "one.cluster.delete", [424242], "cluster" },
        { "one.datastore.delete", [424242], "datastore" },
        { "one.secgroup.delete", [424242], "security group" },
        { "one.vmgroup.delete", [424242], "VM group" },
        { "one.vmgroup.roleadd", [424242, "ROLE = [ NAME = x ]"], "VM group" },
    };

    [BackendTheory]
    [MemberData(nameof(WritesOnUnknownIds))]
    public async Task Write_UnknownId_NoExistsAndNothingChanges(string method, object?[] args, string objectName) =>
        await FailsUnchangedAsync(() => Admin.CallAsync(method, args), Err.NoExists, $"[{method}] Error getting {objectName} [424242].");

    // ------------------------------------------------------------------ wrong credentials

    public static TheoryData<string> BadSessions => new()
    {
        "oneadmin:wrong-password", "nosuchuser:whatever", "no-colon-at-all", "", ":password", "oneadmin:", "oneadmin",
    };

    [BackendTheory]
    [MemberData(nameof(BadSessions))]
    public async Task Call_WrongCredentials_AuthenticationErrorForEveryMethodAndNothingChanges(string session)
    {
        var w = await WorldAsync();
        var client = Fe.Client(session);

        foreach (var (method, args) in new (string, object?[])[]
                 {
                     ("one.system.version", []), ("one.vmpool.info", [-2, -1, -1, -1, ""]), ("one.user.info", [-1, false]),
                     ("one.user.allocate", [Unique("intruder"), "pw", "core", Array.Empty<int>()]), ("one.vm.action", ["terminate", w.Vm]),
                     ("one.acl.addrule", ["400000000", "1FFFFFFFFFFFFFFF", "F", "400000000"]),
                 })
        {
            await FailsUnchangedAsync(() => client.CallAsync(method, args), Err.Authentication, $"[{method}] {Err.AuthFailed}");
        }
    }

    [BackendFact]
    public async Task Call_DisabledUsersToken_AuthenticationError()
    {
        var w = await WorldAsync();
        var name = w.UserSession[..w.UserSession.IndexOf(':', StringComparison.Ordinal)];
        var token = await Fe.Client(w.UserSession).CallStringAsync("one.user.login", name, "", 600, -1);
        await Admin.CallAsync("one.user.enable", w.User, false);
        try
        {
            await FailsUnchangedAsync(() => Fe.Client($"{name}:{token}").CallAsync("one.user.info", -1), Err.Authentication);
        }
        finally
        {
            await Admin.CallAsync("one.user.enable", w.User, true);
        }
    }

    // ------------------------------------------------------------------ template syntax

    [BackendFact]
    public async Task Allocate_TemplateSyntaxError_ParseErrorWithLineAndColumnAndNothingChanges()
    {
        var ex = await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate", "NAME = \"x\"\nMEMORY = 64\nCPU = ]\n", false), Err.Internal, "Parse error");

        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("column", ex.Message, StringComparison.Ordinal);
    }

    [BackendTheory]
    [InlineData("A = [ B = [ C = 1 ] ]")]
    [InlineData("A = \"contains ]]> inside\"")]
    [InlineData("A = \"unterminated")]
    [InlineData("<TEMPLATE><A>unclosed</TEMPLATE>")]
    public async Task Update_TemplateSyntaxError_ParseErrorAndNothingChanges(string template)
    {
        var w = await WorldAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.update", w.Template, template, 1), Err.Internal, "Parse error");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.update", w.Vm, template, 1), Err.Action, "Parse error");
    }

    // ------------------------------------------------------------------ oversized requests

    private static string BigCall(string session, int bytes) =>
        $"<?xml version=\"1.0\"?><methodCall><methodName>one.template.allocate</methodName><params><param><value><string>{session}</string></value></param>" +
        $"<param><value><string>NAME = \"huge\"\nDESCRIPTION = \"{new string('x', bytes)}\"</string></value></param></params></methodCall>";

    [BackendFact]
    public async Task Post_Over8MiBWithContentLength_LimitFaultAndNothingChanges() =>
        await FaultUnchangedAsync(() => PostAsync(BigCall(Fe.AdminSession, 9 * 1024 * 1024)), LimitExceeded);

    [BackendFact]
    public async Task Post_Over8MiBChunked_LimitFaultAndNothingChanges() =>
        await FaultUnchangedAsync(async () =>
        {
            using var http = new HttpClient();
            using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(BigCall(Fe.AdminSession, 9 * 1024 * 1024))));
            content.Headers.ContentType = new MediaTypeHeaderValue("text/xml");
            using var request = new HttpRequestMessage(HttpMethod.Post, Fe.Endpoint) { Content = content };
            request.Headers.TransferEncodingChunked = true;
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return OneXmlRpc.ParseResponse(await response.Content.ReadAsByteArrayAsync());
        }, LimitExceeded);

    [BackendFact]
    public async Task Post_LargeButAllowedRequest_Succeeds()
    {
        var id = await Admin.CallIntAsync("one.template.allocate", $"NAME = \"{Unique("big")}\"\nDESCRIPTION = \"{new string('y', 2 * 1024 * 1024)}\"");

        Assert.Equal(2 * 1024 * 1024, (await Admin.InfoAsync("one.template.info", id)).Str("TEMPLATE/DESCRIPTION").Length);
        await Admin.CallAsync("one.template.delete", id, false);
    }

    // ------------------------------------------------------------------ the daemon keeps serving

    [BackendFact]
    public async Task Burst_BadAndGoodCallsTogether_EveryGoodCallAnsweredAndNothingChanges()
    {
        var w = await WorldAsync();
        var before = await StoreDump.StableAsync(Fe);
        var bad = Fe.Client("oneadmin:wrong");

        var tasks = Enumerable.Range(0, 40).Select(async i =>
        {
            switch (i % 4)
            {
                case 0: return (await PostAsync("<methodCall><methodName>one.vm.info")).IsFault;
                case 1: return await Assert.ThrowsAsync<OneException>(() => bad.CallAsync("one.vm.info", w.Vm)) is { Code: Err.Authentication };
                case 2: return (await RawAsync("one.vm.info", Fe.AdminSession, "zero")).IsFault;
                default: return (await Admin.InfoAsync("one.vm.info", w.Vm)).Int("ID") == w.Vm;
            }
        });

        Assert.All(await Task.WhenAll(tasks), Assert.True);
        await AssertServingAsync();
        StoreDump.AssertSame(before, await StoreDump.TakeAsync(Fe));
        Assert.Empty(Fe.LoggedErrors);
    }
}

public sealed class BadInputTests_Sqlite(SqliteFrontend fixture) : BadInputTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class BadInputTests_Postgres(PostgresFrontend fixture) : BadInputTests(fixture), IClassFixture<PostgresFrontend>;
