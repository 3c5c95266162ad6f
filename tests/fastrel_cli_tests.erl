%% SPDX-License-Identifier: Apache-2.0
%% Tests of the `fastrel' escript (built by `rebar3 escriptize'), run as a user would:
%% from other directories, through a symlink, with bad input.
-module(fastrel_cli_tests).

-include_lib("eunit/include/eunit.hrl").

escript() ->
    {ok, Cwd} = file:get_cwd(),
    E = filename:join(Cwd, "_build/default/bin/fastrel"),
    ?assert(filelib:is_regular(E)),
    E.

scratch() -> fastrel_os:scratch("cli_tests").

%% Runs the escript in Dir; returns {ExitStatus, Stdout, Stderr}. Bounded by a timeout.
run(Dir, Args) -> run(Dir, escript(), Args).

run(Dir, Exe, Args) ->
    Err = filename:join(Dir, ".stderr"),
    Cmd = lists:flatten(["exec ", quote(Exe), [[" ", quote(A)] || A <- Args], " 2>", quote(Err)]),
    Port = open_port({spawn_executable, "/bin/sh"},
                     [{args, ["-c", Cmd]}, {cd, Dir}, exit_status, binary, use_stdio,
                      {env, [{"FASTREL_NIF_PATH", false}]}]),
    {Status, Out} = collect(Port, <<>>),
    {ok, ErrText} = file:read_file(Err),
    {Status, Out, ErrText}.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, Acc}
    after 60000 ->
        try port_close(Port) catch error:badarg -> ok end,
        error(timeout)
    end.

quote(S) -> "'" ++ lists:flatten(string:replace(S, "'", "'\\''", all)) ++ "'".

%% A release directory with example_server's app built, plus the .rel.
release_dir() ->
    Dir = scratch(),
    Ebin = filename:join(Dir, "lib/counter-1.0/ebin"),
    ok = filelib:ensure_path(Ebin),
    App = {application, counter, [{description, "c"}, {vsn, "1.0"}, {modules, [counter]},
                                  {registered, []}, {applications, [kernel, stdlib]}]},
    ok = file:write_file(filename:join(Ebin, "counter.app"), io_lib:format("~tp.~n", [App])),
    Vsn = fun(A) -> _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end,
    Rel = {release, {"counter", "1"}, {erts, erlang:system_info(version)},
           [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}, {sasl, Vsn(sasl)}, {counter, "1.0"}]},
    ok = file:write_file(filename:join(Dir, "counter.rel"), io_lib:format("~tp.~n", [Rel])),
    Dir.

version_and_help_test() ->
    Dir = scratch(),
    {0, V, <<>>} = run(Dir, ["--version"]),
    ?assertMatch(<<"fastrel ", _/binary>>, V),
    {0, H, _} = run(Dir, ["--help"]),
    ?assertNotEqual(nomatch, binary:match(H, <<"script REL">>)),
    {0, H2, _} = run(Dir, ["help", "script"]),
    ?assertNotEqual(nomatch, binary:match(H2, <<"--outdir DIR">>)).

usage_errors_exit_2_test() ->
    Dir = scratch(),
    {2, _, E1} = run(Dir, []),
    ?assertMatch(<<"fastrel: ", _/binary>>, E1),
    {2, _, E2} = run(Dir, ["frobnicate"]),
    ?assertNotEqual(nomatch, binary:match(E2, <<"unknown command: frobnicate">>)),
    {2, _, _} = run(Dir, ["script", "--bogus", "x"]),
    {2, _, _} = run(Dir, ["script"]).

script_matches_systools_from_any_directory_test() ->
    Dir = release_dir(),
    {0, _, _} = run(Dir, ["script", "counter.rel", "--path", "lib/*/ebin", "--outdir", "."]),
    {ok, Cwd} = file:get_cwd(),
    ok = file:set_cwd(Dir),
    try
        ok = filelib:ensure_path("sys"),
        {ok, _, []} = systools:make_script("counter", [silent, {path, ["lib/*/ebin"]}, {outdir, "sys"}]),
        ?assertEqual(file:read_file("sys/counter.boot"), file:read_file("counter.boot")),
        ?assertEqual(file:read_file("sys/counter.script"), file:read_file("counter.script"))
    after
        file:set_cwd(Cwd)
    end.

errors_are_one_sentence_exit_1_test() ->
    Dir = scratch(),
    {1, <<>>, E} = run(Dir, ["script", "missing"]),
    ?assertEqual(<<"fastrel: File not found: \"missing.rel\"\n">>, E),
    ok = file:write_file(filename:join(Dir, "bad.rel"), "{release, {\"b\",\"1\"}\n oops}.\n"),
    {1, <<>>, E2} = run(Dir, ["script", "bad"]),
    ?assertMatch(<<"fastrel: bad.rel:2: syntax error before: oops\n">>, E2).

works_through_a_symlink_elsewhere_test() ->
    Dir = release_dir(),
    Link = filename:join(Dir, "fastrel-link"),
    ok = file:make_symlink(escript(), Link),
    {0, _, _} = run(Dir, Link, ["script", "counter", "--path", "lib/*/ebin", "--local"]),
    {ok, [{script, {"counter", "1"}, _}]} = file:consult(filename:join(Dir, "counter.script")).

boot2script_and_script2boot_test() ->
    Dir = release_dir(),
    {0, _, _} = run(Dir, ["script", "counter", "--path", "lib/*/ebin"]),
    {ok, Boot} = file:read_file(filename:join(Dir, "counter.boot")),
    {ok, Script} = file:read_file(filename:join(Dir, "counter.script")),
    {0, Text, _} = run(Dir, ["boot2script", "counter.boot"]),
    ?assertEqual(Script, Text),
    ok = file:delete(filename:join(Dir, "counter.boot")),
    {0, _, _} = run(Dir, ["script2boot", "counter.script"]),
    ?assertEqual({ok, Boot}, file:read_file(filename:join(Dir, "counter.boot"))),
    {1, _, E} = run(Dir, ["boot2script", "nope.boot"]),
    ?assertMatch(<<"fastrel: Cannot open \"nope.boot\"", _/binary>>, E).

erts_overlay_installs_fastrels_heart_test() ->
    Dir = scratch(),
    {0, Out, _} = run(Dir, ["erts-overlay", "ovl"]),
    ?assertNotEqual(nomatch, binary:match(Out, <<"ovl/erl -heart">>)),
    [begin
         {ok, Ours} = file:read_file("priv/" ++ P),
         ?assertEqual({ok, Ours}, file:read_file(filename:join(Dir, "ovl/bin/" ++ P)))
     end || P <- ["heart", "run_erl", "to_erl"]],
    ?assert(filelib:is_regular(filename:join(Dir, "ovl/erl"))),
    {ok, Target} = file:read_link(filename:join(Dir, "ovl/bin/erlexec")),
    ?assertEqual(filename:join([code:root_dir(), "erts-" ++ erlang:system_info(version), "bin", "erlexec"]), Target).

%% A plain `erl' started from inside an overlay node (as a heart command or a peer would)
%% is the overlay's too, so that node also finds fastrel's heart.
erts_overlay_nested_erl_keeps_the_overlay_test() ->
    Dir = scratch(),
    {0, _, _} = run(Dir, ["erts-overlay", "ovl"]),
    ok = file:write_file(filename:join(Dir, "nested.sh"),
                         "exec erl -noshell -eval 'io:put_chars(os:find_executable(\"heart\")), halt().'\n"),
    Port = open_port({spawn_executable, filename:join(Dir, "ovl/erl")},
                     [{args, ["-noshell", "-eval", "io:put_chars(os:cmd(\"sh nested.sh\")), halt()."]},
                      {cd, Dir}, exit_status, binary, use_stdio]),
    {0, Out} = collect(Port, <<>>),
    ?assertEqual(filename:join(Dir, "ovl/bin/heart"), binary_to_list(Out)).

%% Bad release files given to `fastrel tar' (issue 13: a malformed releases/VSN/*.rel was
%% a `no match of right hand side value {ok,[ok]}' stack trace): one line naming the file
%% on stderr, status 1, nothing on stdout.
tar_of_a_malformed_release_is_one_sentence_test() ->
    Cases = [{"ok.\n", "is not a release file"},
             {"{release, {\"r\", \"1\"}, {erts, \"1\"}, [kernel]}.\n", "is not a release file"},
             {"{release, oops\n", "Cannot read"}],
    [begin
         Dir = scratch(),
         ok = filelib:ensure_path(filename:join(Dir, "releases/1")),
         ok = file:write_file(filename:join(Dir, "releases/start_erl.data"), "13.0 1\n"),
         Rel = filename:join(Dir, "releases/1/r.rel"),
         ok = file:write_file(Rel, Text),
         {Status, Out, Err} = run(Dir, ["tar", Dir]),
         ?assertEqual({1, <<>>}, {Status, Out}),
         ?assertMatch([_], binary:split(string:trim(Err), <<"\n">>, [global])),
         ?assertNotEqual(nomatch, binary:match(Err, list_to_binary(Rel))),
         ?assertNotEqual(nomatch, binary:match(Err, list_to_binary(Want)))
     end || {Text, Want} <- Cases],
    Dir2 = scratch(),
    ok = filelib:ensure_path(filename:join(Dir2, "releases")),
    ok = file:write_file(filename:join(Dir2, "releases/start_erl.data"), "only-one-word\n"),
    {1, <<>>, Err2} = run(Dir2, ["tar", Dir2]),
    ?assertMatch([_], binary:split(string:trim(Err2), <<"\n">>, [global])),
    ?assertNotEqual(nomatch, binary:match(Err2, <<"is not \"ERTS_VSN REL_VSN\"">>)).
