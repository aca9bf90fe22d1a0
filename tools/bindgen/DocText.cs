using System.Security;
using System.Text.RegularExpressions;

namespace Spindle.Bindgen;

/// <summary>Turns a C doc comment into the text of an XML doc summary.</summary>
internal static partial class DocText
{
    public static string Clean(string raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
            return "";
        string text = raw.Trim();
        text = LeadingMarker().Replace(text, "");
        if (text.EndsWith("*/", StringComparison.Ordinal))
            text = text[..^2];
        var lines = text.Split('\n')
            .Select(l => LinePrefix().Replace(l, "").Trim())
            .Select(l => l.Replace("@trivial", "").TrimEnd());
        string joined = string.Join("\n", lines).Trim();
        return SecurityElement.Escape(joined) ?? "";
    }

    [GeneratedRegex(@"^/\*\*<?\s?")]
    private static partial Regex LeadingMarker();

    [GeneratedRegex(@"^\s*\*\s?")]
    private static partial Regex LinePrefix();
}
