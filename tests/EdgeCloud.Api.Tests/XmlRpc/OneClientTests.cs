using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeCloud.Api.XmlRpc;
using EdgeCloud.Client;

namespace EdgeCloud.Api.Tests.XmlRpc;

public sealed class OneClientTests
{
    private const string Session = "oneadmin:secret";

    private static OneClient ClientFor(FakeOneServer server, OneClientOptions? options = null) => new(server.Endpoint, Session, options: options);

    [Fact]
    public async Task CallAsync_SuccessAnswer_ReturnsValueAndSendsSessionFirst()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, 42));
        using var client = ClientFor(server);

        var result = await client.CallAsync("one.vm.info", 5, false);

        Assert.Equal(42, result.Value);
        Assert.Equal(0, result.Code);
        Assert.Equal("one.vm.info", result.Method);
        var call = Assert.Single(server.Calls);
        Assert.Equal("one.vm.info", call.MethodName);
        Assert.Equal(new XmlRpcValue[] { Session, 5, false }, call.Params);
    }

    [Fact]
    public async Task CallAsync_DotNetTypes_AreEncodedAsOpenNebulaExpects()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, 1));
        using var client = ClientFor(server);

        await client.CallAsync("one.user.allocate", "capuser", "cap&<pass>", 7L, true, new[] { 1, 100 }, new List<int>());

        var body = Assert.Single(server.Bodies);
        Assert.Contains("<value><string>cap&amp;&lt;pass&gt;</string></value>", body, StringComparison.Ordinal);
        Assert.Contains("<value><i8>7</i8></value>", body, StringComparison.Ordinal);
        Assert.Contains("<value><boolean>1</boolean></value>", body, StringComparison.Ordinal);
        Assert.Contains("<value><array><data><value><i4>1</i4></value><value><i4>100</i4></value></data></array></value>", body, StringComparison.Ordinal);
        Assert.Contains("<value><array><data></data></array></value>", body, StringComparison.Ordinal);
        Assert.Equal(
            new XmlRpcValue[] { Session, "capuser", "cap&<pass>", XmlRpcValue.FromI8(7), true, XmlRpcValue.FromIntArray([1, 100]), XmlRpcValue.FromArray() },
            Assert.Single(server.Calls).Params);
        Assert.Equal("text/xml; charset=utf-8", Assert.Single(server.ContentTypes));
    }

    [Fact]
    public async Task CallAsync_IntTagOption_SendsIntLikePyone()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, 1));
        using var client = ClientFor(server, new OneClientOptions { IntegerTag = OneIntegerTag.Int });

        await client.CallAsync("one.vm.action", "hold", 3);

        Assert.Contains("<value><int>3</int></value>", Assert.Single(server.Bodies), StringComparison.Ordinal);
        Assert.Equal(3, Assert.Single(server.Calls).Args.Int(2));
    }

    [Fact]
    public async Task CallAsync_FailureArray_ThrowsWithServerCodeMessageAndId()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync(
            (call, output) => XmlRpcResponseWriter.WriteFailure(output, $"[{call.MethodName}] Error getting virtual machine [999].", 0x0400, 999));
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.vm.info", 999, false));

        Assert.Equal(OneErrorCodes.NoExists, ex.Code);
        Assert.Equal("[one.vm.info] Error getting virtual machine [999].", ex.Message);
        Assert.Equal(999, ex.ResponseId);
        Assert.Equal("one.vm.info", ex.Method);
        Assert.True(ex.IsServerError);
        Assert.Null(ex.FaultCode);
    }

    [Fact]
    public async Task CallAsync_ServerRejectsArgumentType_ThrowsXmlRpcCallWithFault()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, call.Args.Int(1)));
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.vm.info", "notanint"));

        Assert.Equal(OneErrorCodes.XmlRpcCall, ex.Code);
        Assert.Equal(XmlRpcFaultCodes.TypeError, ex.FaultCode);
        Assert.Equal("Type mismatch: expected int at parameter 1, got string", ex.Message);
        Assert.False(ex.IsServerError);
    }

    [Fact]
    public async Task CallAsync_Http500_ThrowsNamingStatusAndEndpoint()
    {
        await using var server = await FakeOneServer.StartCannedAsync(500, "text/plain", "database on fire");
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.system.version"));

        Assert.Equal(OneErrorCodes.XmlRpcCall, ex.Code);
        Assert.Contains("HTTP 500", ex.Message, StringComparison.Ordinal);
        Assert.Contains(server.Endpoint.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains("database on fire", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallAsync_Http404_Throws()
    {
        await using var server = await FakeOneServer.StartCannedAsync(404, null, "");
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.system.version"));

        Assert.Contains("HTTP 404", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallAsync_HtmlContentType_ThrowsEvenWithValidBody()
    {
        await using var server = await FakeOneServer.StartCannedAsync(200, "text/html", SuccessString("x"));
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.system.version"));

        Assert.Equal(OneErrorCodes.XmlRpcCall, ex.Code);
        Assert.Contains("Content-Type 'text/html'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/xml")]
    [InlineData("text/xml")]
    [InlineData("TEXT/XML; charset=utf-8")]
    public async Task CallAsync_XmlOrMissingContentType_IsAccepted(string? contentType)
    {
        await using var server = await FakeOneServer.StartCannedAsync(200, contentType, SuccessString("7.5.80"));
        using var client = ClientFor(server);

        Assert.Equal("7.5.80", await client.CallStringAsync("one.system.version"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \r\n")]
    public async Task CallAsync_EmptyBody_Throws(string body)
    {
        await using var server = await FakeOneServer.StartCannedAsync(200, "text/xml", body);
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.system.version"));

        Assert.Equal(OneErrorCodes.XmlRpcCall, ex.Code);
        Assert.StartsWith("Empty answer from " + server.Endpoint, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<methodResponse><params>")]
    [InlineData("<html>oops</html>")]
    [InlineData("<methodResponse><params><param><value><i4>x</i4></value></param></params></methodResponse>")]
    public async Task CallAsync_MalformedBody_ThrowsMalformedAnswer(string body)
    {
        await using var server = await FakeOneServer.StartCannedAsync(200, "text/xml", body);
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.system.version"));

        Assert.Equal(OneErrorCodes.XmlRpcCall, ex.Code);
        Assert.Contains("Malformed XML-RPC answer", ex.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(ex.InnerException);
    }

    [Fact]
    public async Task CallAsync_AnswerNotAnArray_ThrowsUnexpectedAnswer()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteResponse(output, "just a string"));
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.system.version"));

        Assert.Contains("Unexpected answer", ex.Message, StringComparison.Ordinal);
        Assert.Contains("string \"just a string\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallAsync_NothingListening_ThrowsXmlRpcCallNamingEndpoint()
    {
        var endpoint = new Uri($"http://127.0.0.1:{FreePort()}/RPC2");
        using var client = new OneClient(endpoint, Session);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.system.version"));

        Assert.Equal(OneErrorCodes.XmlRpcCall, ex.Code);
        Assert.StartsWith($"Cannot call one.system.version on {endpoint}", ex.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(ex.InnerException);
    }

    [Fact]
    public async Task CallAsync_ServerSlowerThanTimeout_ThrowsTimeout()
    {
        await using var server = await FakeOneServer.StartAsync(async (context, _) => await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted));
        using var client = ClientFor(server, new OneClientOptions { Timeout = TimeSpan.FromMilliseconds(200) });

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallAsync("one.vmpool.info", -2, -1, -1, -1));

        Assert.Equal(OneErrorCodes.Timeout, ex.Code);
        Assert.Contains("Timeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallAsync_CallerCancels_ThrowsOperationCanceled()
    {
        await using var server = await FakeOneServer.StartAsync(async (context, _) => await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted));
        using var client = ClientFor(server);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.CallAsync("one.vmpool.info", [-2, -1, -1, -1], cts.Token));
    }

    [Fact]
    public async Task CallAsync_CancellationTokenPassedAsArgument_ThrowsArgumentException()
    {
        using var client = new OneClient(new Uri("http://127.0.0.1:1/RPC2"), Session);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.CallAsync("one.system.version", CancellationToken.None));

        Assert.Contains("CancellationToken", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallIntAsync_IdAnswer_ReturnsInt()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, 100 + call.Args.Str(1).Length));
        using var client = ClientFor(server);

        Assert.Equal(103, await client.CallIntAsync("one.group.allocate", "abc"));
        Assert.Equal(104, await client.CallIntAsync("one.group.allocate", ["abcd"], CancellationToken.None));
    }

    [Fact]
    public async Task CallIntAsync_StringAnswer_ThrowsNamingTypes()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, "oops"));
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallIntAsync("one.vm.allocate", "T", false));

        Assert.Equal("one.vm.allocate returned string, expected int.", ex.Message);
    }

    [Fact]
    public async Task CallXmlAsync_DocumentAnswer_ParsesXml()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync(
            (call, output) => XmlRpcResponseWriter.WriteSuccess(output, $"<VM><ID>{call.Args.Int(1)}</ID><NAME>a &amp; b</NAME></VM>"));
        using var client = ClientFor(server);

        var document = await client.CallXmlAsync("one.vm.info", 7, false);

        Assert.Equal("7", document.Root!.Element("ID")!.Value);
        Assert.Equal("a & b", document.Root!.Element("NAME")!.Value);
    }

    [Fact]
    public async Task CallXmlAsync_NotXml_ThrowsOneException()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, "<VM><ID>"));
        using var client = ClientFor(server);

        var ex = await Assert.ThrowsAsync<OneException>(() => client.CallXmlAsync("one.vm.info", 1, false));

        Assert.Contains("not well-formed XML", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallStringAsync_MultiMegabyteStreamedAnswer_ArrivesIntact()
    {
        var vm = XmlRpcEscaper.EscapeUtf8("<VM><ID>1</ID><NAME>ü&amp;</NAME></VM>");
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) =>
        {
            XmlRpcResponseWriter.WriteSuccessStringStart(output);
            XmlRpcResponseWriter.WriteTextChunk(output, "<VM_POOL>");
            for (var i = 0; i < 50_000; i++)
            {
                XmlRpcResponseWriter.WriteEscapedChunk(output, vm);
            }

            XmlRpcResponseWriter.WriteTextChunk(output, "</VM_POOL>");
            XmlRpcResponseWriter.WriteSuccessStringEnd(output);
        });
        using var client = ClientFor(server);

        var document = await client.CallXmlAsync("one.vmpool.info", -2, -1, -1, -1, "");

        Assert.Equal(50_000, document.Root!.Elements("VM").Count());
        Assert.All(document.Root.Elements("VM").Take(3), vmElement => Assert.Equal("ü&", vmElement.Element("NAME")!.Value));
    }

    [Fact]
    public async Task CallRawAsync_NoSessionAdded_AndFaultReturnedNotThrown()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, call.Args.Bool(0)));
        using var client = ClientFor(server);

        var ok = await client.CallRawAsync("one.x", [true]);
        var fault = await client.CallRawAsync("one.x", [1]);

        Assert.Equal(new object?[] { true, true, 0 }, ok.Items);
        Assert.True(fault.IsFault);
        Assert.Equal("Type mismatch: expected boolean at parameter 0, got int", fault.FaultString);
    }

    [Fact]
    public async Task CallRawAsync_RawOverflowingI4_ServerAnswersParseFault()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, 0));
        using var client = ClientFor(server);

        var response = await client.CallRawAsync("one.vm.info", [Session, new OneRawValue("<i4>99999999999</i4>")]);

        Assert.True(response.IsFault);
        Assert.Equal(XmlRpcFaultCodes.ParseError, response.FaultCode);
        Assert.Contains("out of the 32-bit range", response.FaultString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallAsync_RawBareTextValue_ReachesServerAsString()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, call.Args.Str(1)));
        using var client = ClientFor(server);

        var result = await client.CallAsync("one.vm.rename", new OneRawValue("  bare text "));

        Assert.Equal("  bare text ", result.Value);
    }

    [Fact]
    public async Task PostRawAsync_MalformedXml_ServerAnswersFaultOver200()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, 0));
        using var client = ClientFor(server);

        using var response = await client.PostRawAsync("<methodCall><methodName>one.vm.info</methodName><params>");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType!.MediaType);
        var parsed = OneXmlRpc.ParseResponse(await response.Content.ReadAsStringAsync());
        Assert.True(parsed.IsFault);
        Assert.Equal(XmlRpcFaultCodes.ParseError, parsed.FaultCode);
        Assert.StartsWith("Malformed XML in XML-RPC call", parsed.FaultString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostRawAsync_GivenContentType_IsSentVerbatim()
    {
        await using var server = await FakeOneServer.StartCannedAsync(200, "text/xml", SuccessString("x"));
        using var client = ClientFor(server);

        using var response = await client.PostRawAsync("{}", "application/json");

        Assert.Equal("{}", Assert.Single(server.Bodies));
        Assert.Equal("application/json", Assert.Single(server.ContentTypes));
    }

    [Fact]
    public async Task WithSession_SendsOtherSessionOverSameClient()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, call.Args.Str(0)));
        using var client = ClientFor(server);
        using var other = client.WithSession("capuser:token");

        Assert.Equal("capuser:token", await other.CallStringAsync("one.user.info", -1, false));
        Assert.Equal(Session, await client.CallStringAsync("one.user.info", -1, false));
    }

    [Fact]
    public async Task CallAsync_ManyConcurrentCalls_AllGetTheirOwnAnswer()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, call.Args.Int(1) * 2));
        using var client = ClientFor(server);

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => client.CallIntAsync("one.x", i)));

        Assert.Equal(Enumerable.Range(0, 64).Select(i => i * 2), results);
    }

    [Fact]
    public async Task CallAsync_I8Answer_ReturnsLong()
    {
        await using var server = await FakeOneServer.StartXmlRpcAsync((call, output) => XmlRpcResponseWriter.WriteSuccess(output, 5_000_000_000L));
        using var client = ClientFor(server);

        var result = await client.CallAsync("one.zone.raftstatus");

        Assert.Equal(5_000_000_000L, result.AsLong());
        Assert.Throws<OneException>(() => result.AsInt());
    }

    [Fact]
    public void Constructor_RelativeEndpoint_Throws()
    {
        Assert.Throws<ArgumentException>(() => new OneClient(new Uri("/RPC2", UriKind.Relative), Session));
    }

    private static string SuccessString(string value)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        XmlRpcResponseWriter.WriteSuccess(output, value);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
