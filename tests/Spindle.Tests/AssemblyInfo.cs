// One Spindle runtime runs at a time in a process: test classes run one after another.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
