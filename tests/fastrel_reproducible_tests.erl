%% SPDX-License-Identifier: Apache-2.0
%% Reproducible releases: the example project built twice, in two directories, from
%% sources with different mtimes, gives the same release tree (bytes, modes, mtimes)
%% and the same tarball, with SOURCE_DATE_EPOCH set or `{reproducible, true}' alone.
-module(fastrel_reproducible_tests).

-include_lib("eunit/include/eunit.hrl").
-import(fastrel_os, [rebar3/2, rebar3/3, run/3, run/4]).
-include_lib("kernel/include/file.hrl").

-define(EPOCH, 1700000000).

%% The example project under a directory of its own (so two copies differ in path).
project(Name, Relx) ->
    Dir = fastrel_os:example_project("reproducible_tests/" ++ Name, "example", Relx),
    %% Without deterministic, the compiler writes the source path into every beam.
    {ok, Conf} = file:read_file(filename:join(Dir, "rebar.config")),
    ok = file:write_file(filename:join(Dir, "rebar.config"), [Conf, "{erl_opts, [deterministic]}.\n"]),
    Dir.

%% Every source gets its own mtime, different in each copy.
touch_sources(Dir, Mtime) ->
    [ok = file:write_file_info(F, #file_info{mtime = Mtime + I, atime = Mtime}, [{time, posix}])
     || {I, F} <- lists:enumerate(filelib:wildcard(filename:join([Dir, "src", "*"])))],
    ok.

%% Relative path => {Type, Mode, Mtime, Bytes or link target}, for every entry below Dir.
tree(Dir) -> tree(Dir, ".", #{}).

tree(Root, Rel, Acc) ->
    P = filename:join(Root, Rel),
    {ok, #file_info{type = T, mode = M, mtime = Mt}} = file:read_link_info(P, [{time, posix}]),
    Entry = case T of
                symlink -> {ok, L} = file:read_link(P), L;
                regular -> {ok, B} = file:read_file(P), erlang:md5(B);
                directory -> dir
            end,
    Acc1 = Acc#{Rel => {T, M, Mt, Entry}},
    case T of
        directory ->
            {ok, Names} = file:list_dir(P),
            lists:foldl(fun(N, A) -> tree(Root, filename:join(Rel, N), A) end, Acc1, Names);
        _ -> Acc1
    end.

relx() ->
    [{release, {example_server, "1.0.0"}, [example_server, sasl]}, {include_erts, true},
     {overlay, [{mkdir, "log"}, {template, "rebar.config", "etc/rebar.config"}]}].

two_builds_in_two_directories_are_byte_identical_test_() ->
    {timeout, 600, fun() ->
        A = project("a", relx()),
        B = project("b", relx()),
        touch_sources(A, 1500000000),
        touch_sources(B, 1600000000),
        Env = [{"SOURCE_DATE_EPOCH", integer_to_list(?EPOCH)}],
        {0, OutA} = rebar3(A, ["fastrel", "tar"], Env),
        {0, _} = rebar3(B, ["fastrel", "tar"], Env),
        ?assertEqual(nomatch, string:find(OutA, "deterministic")),
        RelA = filename:join([A, "_build", "default", "rel", "example_server"]),
        RelB = filename:join([B, "_build", "default", "rel", "example_server"]),
        TA = tree(RelA),
        TB = tree(RelB),
        ?assertEqual(lists:sort(maps:keys(TA)), lists:sort(maps:keys(TB))),
        [?assertEqual({K, maps:get(K, TA)}, {K, maps:get(K, TB)}) || K <- lists:sort(maps:keys(TA))],
        %% Everything has the epoch as mtime, the tarball too.
        ?assertEqual([], [K || {K, {_, _, Mt, _}} <- maps:to_list(TA), Mt =/= ?EPOCH]),
        Tar = "example_server-1.0.0.tar.gz",
        ?assert(maps:is_key(filename:join(".", Tar), TA)),
        {ok, TarA} = file:read_file(filename:join(RelA, Tar)),
        {ok, TarB} = file:read_file(filename:join(RelB, Tar)),
        ?assert(TarA =:= TarB),
        %% The gzip header's mtime is 0, every entry's the epoch, owner 0/0.
        <<16#1f, 16#8b, 8, _, 0:32, _/binary>> = TarA,
        {ok, Entries} = erl_tar:table({binary, TarA}, [compressed, verbose]),
        ?assertEqual([], [E || {_, _, _, Mt, _, U, G} = E <- Entries, {Mt, U, G} =/= {?EPOCH, 0, 0}]),
        ?assertMatch([_ | _], [N || {N, _, _, _, _, _, _} <- Entries, lists:prefix("erts-", N)]),
        %% The tree written is the one the reference run sees: nothing of either
        %% directory's path in any file fastrel generated.
        [?assertEqual({F, nomatch}, {F, binary:match(read(filename:join(RelA, F)), list_to_binary(A))})
         || F <- ["bin/example_server", "releases/1.0.0/vm.args", "releases/1.0.0/sys.config",
                  "releases/1.0.0/start.boot", "releases/1.0.0/start.script", "releases/RELEASES",
                  "releases/1.0.0/example_server.rel"]]
    end}.

%% The relx key alone (no SOURCE_DATE_EPOCH): mtimes 0, in the tree and the tarball; an
%% application compiled without deterministic is named.
reproducible_key_alone_test_() ->
    {timeout, 300, fun() ->
        Dir = fastrel_os:example_project("reproducible_tests/key", "example",
                                         [{release, {example_server, "1.0.0"}, [example_server, sasl]}, {reproducible, true}]),
        {0, Out} = rebar3(Dir, ["fastrel", "tar"], [{"SOURCE_DATE_EPOCH", false}]),
        ?assertNotEqual(nomatch, string:find(Out, "example_server was compiled without deterministic")),
        Rel = filename:join([Dir, "_build", "default", "rel", "example_server"]),
        ?assertEqual([], [K || {K, {_, _, Mt, _}} <- maps:to_list(tree(Rel)), Mt =/= 0]),
        {ok, Entries} = erl_tar:table(filename:join(Rel, "example_server-1.0.0.tar.gz"), [compressed, verbose]),
        ?assertEqual([], [E || {_, _, _, Mt, _, _, _} = E <- Entries, Mt =/= 0]),
        %% A SOURCE_DATE_EPOCH that is no date is an error, not a release that differs.
        {1, Bad} = rebar3(Dir, ["fastrel", "release"], [{"SOURCE_DATE_EPOCH", "yesterday"}]),
        ?assertNotEqual(nomatch, string:find(Bad, "SOURCE_DATE_EPOCH is \"yesterday\""))
    end}.

read(F) -> {ok, B} = file:read_file(F), B.

%% `fastrel tar REL_DIR' on a mix release (fastrel_mix:tar/2): two copies in two
%% directories, with different mtimes, give the same tarball under SOURCE_DATE_EPOCH.
mix_tar_test() ->
    Make = fun(Mtime) ->
               Rel = filename:join(fastrel_os:scratch("reproducible_tests"), "rel"),
               Files = [{"bin/app", "#!/bin/sh\n"}, {"releases/start_erl.data", "13.1.5 0.1.0"},
                        {"releases/0.1.0/elixir", "#!/bin/sh\n"}, {"releases/0.1.0/env.sh", "#!/bin/sh\n"},
                        {"releases/0.1.0/app.rel", "{release,{\"app\",\"0.1.0\"},{erts,\"13.1.5\"},[{kernel,\"8.5.3\"},{app,\"0.1.0\"}]}.\n"},
                        {"lib/kernel-8.5.3/ebin/kernel.app", "{application,kernel,[]}.\n"},
                        {"lib/app-0.1.0/ebin/app.app", "{application,app,[]}.\n"},
                        {"lib/app-0.1.0/priv/z.txt", "z\n"}, {"lib/app-0.1.0/priv/a.txt", "a\n"}],
               [begin
                    P = filename:join(Rel, F),
                    ok = filelib:ensure_dir(P),
                    ok = file:write_file(P, B),
                    ok = file:write_file_info(P, #file_info{mtime = Mtime + I}, [{time, posix}])
                end || {I, {F, B}} <- lists:enumerate(Files)],
               Rel
           end,
    A = Make(1500000000),
    B = Make(1600000000),
    Old = os:getenv("SOURCE_DATE_EPOCH"),
    os:putenv("SOURCE_DATE_EPOCH", integer_to_list(?EPOCH)),
    try
        {ok, TA} = fastrel_mix:tar(A, #{out => A ++ ".tar.gz"}),
        {ok, TB} = fastrel_mix:tar(B, #{out => B ++ ".tar.gz"}),
        ?assert(read(TA) =:= read(TB)),
        {ok, Entries} = erl_tar:table(TA, [compressed, verbose]),
        ?assertEqual([], [E || {_, _, _, Mt, _, U, G} = E <- Entries, {Mt, U, G} =/= {?EPOCH, 0, 0}])
    after
        case Old of false -> os:unsetenv("SOURCE_DATE_EPOCH"); _ -> os:putenv("SOURCE_DATE_EPOCH", Old) end
    end.
