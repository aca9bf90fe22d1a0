using System.Text;

namespace Spindle.Cli;

/// <summary>What a 64-bit little-endian ELF shared object links against, read from its
/// dynamic section and dynamic symbol table: its soname, the libraries it needs, and the
/// symbols it uses without defining them.</summary>
internal sealed record ElfLinkage(string? SoName, IReadOnlyList<string> Needed, IReadOnlyList<string> Undefined)
{
    private const uint ShtDynsym = 11, ShtDynamic = 6;
    private const long DtNeeded = 1, DtSoname = 14;

    private readonly record struct Section(uint Type, ulong Offset, ulong Size, uint Link);

    /// <summary>The linkage of the file at path, or null when it is not such an ELF file
    /// or cannot be read (the loader then has its say).</summary>
    public static ElfLinkage? Read(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            var r = new BinaryReader(file);
            byte[] ident = r.ReadBytes(16);
            if (ident.Length < 16 || ident[0] != 0x7f || ident[1] != 'E' || ident[2] != 'L' || ident[3] != 'F' ||
                ident[4] != 2 /* 64-bit */ || ident[5] != 1 /* little-endian */)
                return null;
            file.Position = 0x28;
            ulong shoff = r.ReadUInt64();
            file.Position = 0x3a;
            ushort shentsize = r.ReadUInt16(), shnum = r.ReadUInt16();
            if (shentsize != 64 || shnum == 0)
                return null;
            var sections = new Section[shnum];
            for (int i = 0; i < shnum; i++)
            {
                file.Position = checked((long)(shoff + (ulong)i * 64));
                r.ReadUInt32(); // name
                uint type = r.ReadUInt32();
                r.ReadUInt64(); // flags
                r.ReadUInt64(); // address
                sections[i] = new Section(type, r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt32());
            }

            string? soname = null;
            var needed = new List<string>();
            var undefined = new List<string>();
            foreach (Section s in sections)
            {
                if ((s.Type != ShtDynamic && s.Type != ShtDynsym) || s.Link >= shnum)
                    continue;
                byte[] strings = Bytes(file, sections[s.Link]);
                byte[] entries = Bytes(file, s);
                if (s.Type == ShtDynamic)
                {
                    for (int at = 0; at + 16 <= entries.Length; at += 16)
                    {
                        long tag = BitConverter.ToInt64(entries, at);
                        ulong value = BitConverter.ToUInt64(entries, at + 8);
                        if (tag == DtNeeded)
                            needed.Add(String(strings, value));
                        else if (tag == DtSoname)
                            soname = String(strings, value);
                    }
                }
                else
                {
                    for (int at = 24; at + 24 <= entries.Length; at += 24) // entry 0 is the null symbol
                    {
                        uint name = BitConverter.ToUInt32(entries, at);
                        ushort sectionIndex = BitConverter.ToUInt16(entries, at + 6);
                        if (sectionIndex == 0 && name != 0)
                            undefined.Add(String(strings, name));
                    }
                }
            }
            return new ElfLinkage(soname, needed, undefined);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OverflowException)
        {
            return null;
        }
    }

    private static byte[] Bytes(FileStream file, Section s)
    {
        if (s.Offset > (ulong)file.Length || s.Size > (ulong)file.Length - s.Offset)
            throw new EndOfStreamException();
        var bytes = new byte[s.Size];
        file.Position = (long)s.Offset;
        file.ReadExactly(bytes);
        return bytes;
    }

    private static string String(byte[] table, ulong offset)
    {
        if (offset >= (ulong)table.Length)
            return "";
        int start = (int)offset, end = Array.IndexOf(table, (byte)0, start);
        return Encoding.UTF8.GetString(table, start, (end < 0 ? table.Length : end) - start);
    }
}
