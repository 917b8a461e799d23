using EdgeCloud.Cli;

// The one binary: the role (frontend; agent, up and the client verbs come with their issues) is the first word.
return await EdgeCloudCommand.RunAsync(args).ConfigureAwait(false);
