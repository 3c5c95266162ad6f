%% SPDX-License-Identifier: Apache-2.0
%% Deeply nested input never crashes the VM (issue 13). Each case runs in a VM of its own,
%% started here with the default dirty IO scheduler stack (the NIFs run there): an
%% overflow of the NIF thread's stack kills that VM, which the test sees as its exit
%% status, instead of killing the VM running the tests.
-module(relnif_depth_tests).

-include_lib("eunit/include/eunit.hrl").

-export([child/0]).

%% Deeper than any limit: what the fault campaign fed in.
-define(DEEP, 100000).

%%% ---------------------------------------------------------------- the child VM

%% Runs one case (`-extra Case Dir Out'), writes `term_to_binary(Result)' to `Out'.
child() ->
    [Case, Dir, Out] = init:get_plain_arguments(),
    ok = file:set_cwd(Dir),
    Result = try run(list_to_atom(Case))
             catch C:R -> {crashed, C, R}
             end,
    ok = file:write_file(Out, term_to_binary(Result)),
    halt(0).

run(boot2script) -> relnif:boot2script("d.boot");
run(consult) -> relnif:consult("d.config");
run(script2boot) -> {relnif:script2boot("d"), relnif:script2boot_silent("d")};
run(make_script) -> relnif:make_script("deeprel", [silent, {path, ["lib/*/ebin"]}, {outdir, "."}]);
run(make_script_rn) -> relnif:make_script("deeprel", [silent, {path, ["lib/*/ebin"]}, {outdir, "rn"}]).

%% Runs `Case' in `Dir' in a fresh VM; returns its result, or `{vm_died, Status, Output}'.
in_child_vm(Case, Dir) -> in_child_vm(Case, Dir, []).

%% The same, with extra emulator flags.
in_child_vm(Case, Dir, Flags) ->
    Erl = filename:join([code:root_dir(), "bin", "erl"]),
    Out = filename:join(Dir, atom_to_list(Case) ++ ".result"),
    Pa = lists:usort([filename:dirname(code:which(M)) || M <- [relnif, ?MODULE]]),
    Args = Flags ++ ["-noshell", "-boot", "start_clean"] ++ lists:append([["-pa", P] || P <- Pa])
        ++ ["-eval", "relnif_depth_tests:child()", "-extra", atom_to_list(Case), Dir, Out],
    Port = open_port({spawn_executable, Erl}, [{args, Args}, exit_status, stderr_to_stdout, binary]),
    case wait_exit(Port, []) of
        {0, _} ->
            {ok, B} = file:read_file(Out),
            binary_to_term(B);
        {Status, Output} ->
            {vm_died, Status, Output}
    end.

wait_exit(Port, Acc) ->
    receive
        {Port, {data, D}} -> wait_exit(Port, [D | Acc]);
        {Port, {exit_status, S}} -> {S, iolist_to_binary(lists:reverse(Acc))}
    after 120000 ->
        error(child_vm_timeout)
    end.

%%% ---------------------------------------------------------------- fixtures

with_dir(Fun) ->
    {ok, Cwd} = file:get_cwd(),
    Dir = filename:join([Cwd, "_build", "relnif_depth_tests",
                         os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive]))]),
    ok = filelib:ensure_path(Dir),
    try Fun(Dir)
    after
        _ = file:del_dir_r(Dir)
    end.

%% `[[...[x]...]]', `Depth' lists deep.
nested(Depth) -> lists:foldl(fun(_, A) -> [A] end, x, lists:seq(1, Depth)).

nested_text(Depth) -> [nested_body(Depth), ".\n"].

nested_body(Depth) -> [lists:duplicate(Depth, $[), "x", lists:duplicate(Depth, $])].

%% The text a reason formats to, which must name what went wrong.
text(Reason) ->
    T = relnif:format_error(Reason),
    ?assert(io_lib:char_list(T)),
    T.

has(Text, Part) -> string:find(Text, Part) =/= nomatch.

%%% ---------------------------------------------------------------- tests

%% The repro of issue 13 (800 levels), and 100,000: an error naming the file, not a
%% dead VM. `binary_to_term/1' reads both, so systools would print them.
boot2script_test_() ->
    {timeout, 120,
     fun() ->
         [with_dir(fun(Dir) ->
              ok = file:write_file(filename:join(Dir, "d.boot"), term_to_binary(nested(Depth))),
              R = in_child_vm(boot2script, Dir),
              ?assertMatch({Depth, {error, relnif, {bad_boot, "d.boot", _}}}, {Depth, R}),
              {error, relnif, Reason} = R,
              T = text(Reason),
              ?assert(has(T, "Cannot decode boot file \"d.boot\"")),
              ?assert(has(T, "nested deeper than 256 levels"))
          end) || Depth <- [800, ?DEEP]]
     end}.

%% At the limit, boot2script works, and prints what `~tp' prints, even with the smallest
%% dirty IO scheduler stack the VM allows (`+sssdio 20': 20 kilowords).
boot2script_at_the_limit_test_() ->
    {timeout, 120,
     fun() ->
         [with_dir(fun(Dir) ->
              T = nested(256),
              ok = file:write_file(filename:join(Dir, "d.boot"), term_to_binary(T)),
              R = in_child_vm(boot2script, Dir, Flags),
              ?assertMatch({Flags, {ok, _}}, {Flags, R}),
              {ok, Text} = R,
              ?assertEqual(unicode:characters_to_binary(["%% coding: utf-8\n", io_lib:format("~tp.~n", [T])]), Text)
          end) || Flags <- [[], ["+sssdio", "20"]]]
     end}.

consult_test() ->
    with_dir(fun(Dir) ->
        ok = file:write_file(filename:join(Dir, "d.config"), nested_text(?DEEP)),
        R = in_child_vm(consult, Dir),
        ?assertMatch({error, {1, fastrel_reader, "nesting too deep"}}, R),
        {error, Reason} = R,
        ?assert(has(text(Reason), "nesting too deep"))
    end).

script2boot_test() ->
    with_dir(fun(Dir) ->
        ok = file:write_file(filename:join(Dir, "d.script"), nested_text(?DEEP)),
        R = in_child_vm(script2boot, Dir),
        ?assertMatch({error, {error, relnif, {parse, "d.script", {1, fastrel_reader, "nesting too deep"}}}}, R),
        {error, {error, relnif, Reason}} = R,
        ?assert(has(text(Reason), "d.script:1: nesting too deep")),
        ?assertNot(filelib:is_file(filename:join(Dir, "d.boot")))
    end).

%% A release whose application `deep' has `Env' for its env.
write_deep_release(Dir, Env) ->
    Ebin = filename:join(Dir, "lib/deep-1.0/ebin"),
    ok = filelib:ensure_path(Ebin),
    App = ["{application, deep, [{description, \"\"}, {vsn, \"1.0\"}, {modules, []}, ",
           "{registered, []}, {applications, [kernel, stdlib]}, {env, [{k, ", Env, "}]}]}.\n"],
    ok = file:write_file(filename:join(Ebin, "deep.app"), App),
    Vsn = fun(A) -> _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end,
    Rel = {release, {"deeprel", "1.0"}, {erts, erlang:system_info(version)},
           [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}, {deep, "1.0"}]},
    ok = file:write_file(filename:join(Dir, "deeprel.rel"), io_lib:format("~tp.~n", [Rel])).

%% An env as deep as the limit lets through (the .app's own five levels, then 251): the
%% same .script and .boot as systools, even with the smallest dirty IO scheduler stack.
make_script_at_the_limit_test() ->
    with_dir(fun(Dir) ->
        write_deep_release(Dir, nested_body(251)),
        ok = filelib:ensure_path(filename:join(Dir, "rn")),
        ?assertEqual({ok, relnif, [{warning, missing_sasl}]}, in_child_vm(make_script_rn, Dir, ["+sssdio", "20"])),
        {ok, Cwd} = file:get_cwd(),
        ok = file:set_cwd(Dir),
        try
            ?assertMatch({ok, systools_make, _}, systools:make_script("deeprel", [silent, {path, ["lib/*/ebin"]}]))
        after
            ok = file:set_cwd(Cwd)
        end,
        [?assertEqual(read(filename:join(Dir, "deeprel" ++ Ext)), read(filename:join([Dir, "rn", "deeprel" ++ Ext])))
         || Ext <- [".script", ".boot"]]
    end).

read(F) ->
    {ok, B} = file:read_file(F),
    B.

%% An application whose env holds a 100,000-level term: the .app cannot be read.
make_script_test() ->
    with_dir(fun(Dir) ->
        write_deep_release(Dir, nested_body(?DEEP)),
        R = in_child_vm(make_script, Dir),
        ?assertMatch({error, relnif, _}, R),
        {error, relnif, Reason} = R,
        T = text(Reason),
        ?assert(has(T, "deep.app")),
        ?assert(has(T, "nesting too deep")),
        ?assertNot(filelib:is_file(filename:join(Dir, "deeprel.boot")))
    end).
