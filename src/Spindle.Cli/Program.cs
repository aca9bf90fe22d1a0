// The `spindle` command; see CliApp.
return Spindle.Cli.CliApp.Execute(args, Console.Out, Console.Error, stderrIsTerminal: !Console.IsErrorRedirected);
