using System.Globalization;
using System.Text;
using System.Xml;
using Microsoft.AspNetCore.Http;

namespace WinEksPatch.Simulator.Aws.Protocols;

/// <summary>
/// The awsQuery protocol's responses (STS, Auto Scaling):
/// &lt;{Op}Response xmlns=ns&gt;&lt;{Op}Result&gt;...&lt;/{Op}Result&gt;&lt;ResponseMetadata&gt;&lt;RequestId/&gt;...
/// and errors as &lt;ErrorResponse&gt;&lt;Error&gt;&lt;Type/&gt;&lt;Code/&gt;&lt;Message/&gt;&lt;/Error&gt;&lt;RequestId/&gt;.
/// </summary>
public static class AwsQueryProtocol
{
    public static Task WriteResultAsync(AwsCall call, string xmlNamespace, string operation, Action<XmlWriter>? writeResult)
        => Xml.WriteAsync(call.Http, 200, w =>
        {
            w.WriteStartElement(operation + "Response", xmlNamespace);
            if (writeResult is not null)
            {
                w.WriteStartElement(operation + "Result");
                writeResult(w);
                w.WriteEndElement();
            }

            w.WriteStartElement("ResponseMetadata");
            w.WriteElementString("RequestId", call.RequestId);
            w.WriteEndElement();
            w.WriteEndElement();
        });

    public static Task WriteErrorAsync(HttpContext http, string requestId, string xmlNamespace, AwsException error)
        => Xml.WriteAsync(http, error.StatusCode, w =>
        {
            w.WriteStartElement("ErrorResponse", xmlNamespace);
            w.WriteStartElement("Error");
            w.WriteElementString("Type", error.SenderFault ? "Sender" : "Receiver");
            w.WriteElementString("Code", error.Code);
            w.WriteElementString("Message", error.Message);
            w.WriteEndElement();
            w.WriteElementString("RequestId", requestId);
            w.WriteEndElement();
        });
}

/// <summary>
/// The EC2 query protocol's responses: &lt;{Op}Response xmlns=ec2&gt;&lt;requestId/&gt;...; no Result wrapper,
/// lists as &lt;fooSet&gt;&lt;item&gt;; errors as &lt;Response&gt;&lt;Errors&gt;&lt;Error&gt;&lt;Code/&gt;&lt;Message/&gt;&lt;/Error&gt;&lt;/Errors&gt;&lt;RequestID/&gt;.
/// </summary>
public static class Ec2Protocol
{
    public const string Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";

    public static Task WriteResultAsync(AwsCall call, string operation, Action<XmlWriter> writeBody)
        => Xml.WriteAsync(call.Http, 200, w =>
        {
            w.WriteStartElement(operation + "Response", Namespace);
            w.WriteElementString("requestId", call.RequestId);
            writeBody(w);
            w.WriteEndElement();
        });

    public static Task WriteErrorAsync(HttpContext http, string requestId, AwsException error)
        => Xml.WriteAsync(http, error.StatusCode, w =>
        {
            w.WriteStartElement("Response");
            w.WriteStartElement("Errors");
            w.WriteStartElement("Error");
            w.WriteElementString("Code", error.Code);
            w.WriteElementString("Message", error.Message);
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteElementString("RequestID", requestId);
            w.WriteEndElement();
        });
}

/// <summary>Small XML helpers shared by the query protocols.</summary>
public static class Xml
{
    private static readonly XmlWriterSettings Settings = new() { Encoding = new UTF8Encoding(false), Indent = false, OmitXmlDeclaration = false };

    public static async Task WriteAsync(HttpContext http, int status, Action<XmlWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = XmlWriter.Create(buffer, Settings))
        {
            w.WriteStartDocument();
            write(w);
            w.WriteEndDocument();
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = "text/xml;charset=UTF-8";
        http.Response.ContentLength = buffer.Length;
        await http.Response.Body.WriteAsync(buffer.ToArray()).ConfigureAwait(false);
    }

    /// <summary>
    /// Renders part of a response to text. Services render under the world lock (entities change as
    /// soon as it is released) and write the text to the network after releasing it.
    /// </summary>
    public static string Fragment(Action<XmlWriter> write)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var w = XmlWriter.Create(text, new XmlWriterSettings { ConformanceLevel = ConformanceLevel.Fragment }))
        {
            write(w);
        }

        return text.ToString();
    }

    /// <summary>ISO 8601 with milliseconds, as AWS XML timestamps are written.</summary>
    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string Bool(bool b) => b ? "true" : "false";

    public static string Int(long n) => n.ToString(CultureInfo.InvariantCulture);

    public static void Element(this XmlWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteElementString(name, value);
        }
    }

    /// <summary>Writes &lt;name&gt;&lt;itemName&gt;...&lt;/itemName&gt;...&lt;/name&gt;.</summary>
    public static void List<T>(this XmlWriter w, string name, string itemName, IEnumerable<T> items, Action<XmlWriter, T> writeItem)
    {
        w.WriteStartElement(name);
        foreach (T item in items)
        {
            w.WriteStartElement(itemName);
            writeItem(w, item);
            w.WriteEndElement();
        }

        w.WriteEndElement();
    }

    /// <summary>A list of plain strings.</summary>
    public static void StringList(this XmlWriter w, string name, string itemName, IEnumerable<string> items)
    {
        w.WriteStartElement(name);
        foreach (string item in items)
        {
            w.WriteElementString(itemName, item);
        }

        w.WriteEndElement();
    }
}
