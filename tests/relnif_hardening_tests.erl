%% SPDX-License-Identifier: Apache-2.0
%% Issue 13: inputs on which relnif or the fastrel escript raised, aborted the VM or died
%% by a signal. Each test states what systools does with the same input: where systools
%% returns an error, relnif returns `{error, relnif, _}'; where systools raises for a bad
%% option list, relnif raises the same exception.
-module(relnif_hardening_tests).

-include_lib("eunit/include/eunit.hrl").

scratch() -> fastrel_os:scratch("relnif_hardening_tests").

vsn(A) ->
    _ = application:load(A),
    {ok, V} = application:get_key(A, vsn),
    V.

%% A release of kernel, stdlib, sasl and an empty `myapp', its boot file made by systools,
%% in a scratch directory that is the cwd during Fun.
with_release(Fun) ->
    {ok, Cwd} = file:get_cwd(),
    Dir = scratch(),
    Ebin = filename:join(Dir, "lib/myapp-1.0/ebin"),
    ok = filelib:ensure_path(Ebin),
    ok = file:write_file(filename:join(Ebin, "myapp.app"), io_lib:format("~tp.~n", [
        {application, myapp, [{description, "t"}, {vsn, "1.0"}, {modules, []},
                              {registered, []}, {applications, [kernel, stdlib]}]}])),
    Rel = {release, {"myrel", "1.0.0"}, {erts, erlang:system_info(version)},
           [{kernel, vsn(kernel)}, {stdlib, vsn(stdlib)}, {sasl, vsn(sasl)}, {myapp, "1.0"}]},
    ok = file:write_file(filename:join(Dir, "myrel.rel"), io_lib:format("~tp.~n", [Rel])),
    ok = file:set_cwd(Dir),
    try
        {ok, systools_make, _} = systools:make_script("myrel", [silent, {path, ["lib/*/ebin"]}]),
        [ok = filelib:ensure_path(D) || D <- ["sys", "rn"]],
        Fun(Dir)
    after
        ok = file:set_cwd(Cwd)
    end.

tar(Opts) -> relnif:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "rn"} | Opts]).
systools_tar() -> systools:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "sys"}]).

%%% ------------------------------------------------ 1. sys.config / relup that is not text

%% Invalid UTF-8 in the first term: file:consult/1 returns an error and systools reports
%% it; relnif gives the same term and text.
binary_sys_config_is_systools_error_test() ->
    with_release(fun(_) ->
        ok = file:write_file("sys.config", <<"[{a,", 16#ff, 16#fe, "}].\n">>),
        {error, systools_make, E} = systools_tar(),
        ?assertEqual({tar_error, {add, "sys.config", [{error, {1, file_io_server, invalid_unicode}}]}}, E),
        ?assertEqual({error, relnif, E}, tar([])),
        ?assertEqual(lists:flatten(systools_make:format_error(E)), relnif:format_error(E)),
        ?assertEqual({ok, []}, file:list_dir("rn"))
    end).

%% Invalid UTF-8 after a good term: file:consult/1 itself raises
%% `{case_clause, {error, tokens}}' (OTP 25, 26), which systools returns as its error with
%% the stack trace. relnif raised it; now it gives the error file:consult gives for invalid
%% UTF-8 in the first term, on the line of the bad bytes, and its text names the file.
binary_after_a_term_is_an_error_naming_the_file_test() ->
    with_release(fun(_) ->
        Bad = <<"\n", 16#ff, 16#00, 16#c3, "garbage\n">>,
        ok = file:write_file("sys.config", <<"[{a, []}].", Bad/binary>>),
        Sys = systools_tar(),
        ?assertMatch({error, systools_make, _}, Sys),
        Expect = {tar_error, {add, "sys.config", [{error, {2, file_io_server, invalid_unicode}}]}},
        ?assertEqual({error, relnif, Expect}, tar([])),
        Text = relnif:format_error(Expect),
        ?assertMatch("Cannot add file sys.config to tar file" ++ _, Text),
        ?assertEqual({ok, []}, file:list_dir("rn")),
        %% A long string outside any binary does not count against the binary limit: the
        %% first form is read (and its binaries bounded), the error is OTP's.
        Long = list_to_binary(lists:duplicate(200000, $x)),
        ok = file:write_file("sys.config", <<"[{a, [{k, \"", Long/binary, "\"}, {b, <<0:1024>>}]}].", Bad/binary>>),
        ?assertEqual({error, relnif, Expect}, tar([])),
        ok = file:write_file("sys.config", "[{a, []}].\n"),
        ok = file:write_file("relup", <<"{\"1.0.0\", [], []}.", Bad/binary>>),
        ?assertEqual({error, relnif, {tar_error, {add, "relup", [{error, {2, file_io_server, invalid_unicode}}]}}},
                     tar([])),
        ?assertEqual({ok, []}, file:list_dir("rn"))
    end).

%%% ------------------------------------------------ 2. huge binary literals on the error path

%% 2^40 bits: 128 GiB, an allocation that fails outright (no memory is touched) and aborts
%% the VM with `binary_alloc: Cannot allocate' in erl_parse:parse_term/1 — as systools
%% does with these files. The Rust reader refuses such literals; the re-read of the file on
%% relnif's error path must not build them either. Each case runs in a VM of its own so an
%% abort is that VM dying.
-define(HUGE, "<<0:1099511627776>>").

huge_binary_literals_do_not_abort_the_vm_test_() ->
    {timeout, 120, fun() ->
        Dir = scratch(),
        W = fun(F, Text) -> ok = file:write_file(filename:join(Dir, F), Text) end,
        W("rel1.rel", "{release, {\"r\", \"1\"}, {erts, " ?HUGE "}, []}.\n"),
        %% Bit syntax the bound must see through: parentheses, a unit, a string segment.
        W("rel2.rel", "{release, {\"r\", \"1\"}, {erts, <<0:(4294967296)/unit:256>>}, []}.\n"),
        W("rel3.rel", "{release, {\"r\", \"1\"}, {erts, <<\"abcdefgh\":4294967296>>}, []}.\n"),
        W("boot.script", "{script, {\"r\", \"1\"}, [" ?HUGE "]}.\n"),
        W("rel4.rel", "{release, {\"r\", \"1\"}, {erts, \"1\"}, []}.\n"),
        with_release(fun(RelDir) ->
            ok = file:write_file("sys.config", "[{a, []}].\n{" ?HUGE "}.\n"),
            Calls = [{Dir, "relnif:make_script(\"rel1\", [silent])", "rel1.rel:1: bad term"},
                     {Dir, "relnif:make_script(\"rel2\", [silent])", "rel2.rel:1: bad term"},
                     {Dir, "relnif:make_script(\"rel3\", [silent])", "rel3.rel:1: bad term"},
                     {Dir, "relnif:script2boot_silent(\"boot\")", "boot.script:1: bad term"},
                     {RelDir, "relnif:make_tar(\"myrel\", [silent, {path, [\"lib/*/ebin\"]}, {outdir, \"rn\"}])",
                      "Cannot add file sys.config to tar file - [{error,{2,fastrel_reader,\"bad term\"}}]"},
                     {Dir, "relnif:make_relup(\"rel4\", [\"rel1\"], [], [silent])", "Could not parse file rel1.rel"}],
            [begin
                 Expr = "R = " ++ Call ++ ", {error, relnif, E} = R, io:put_chars([\"RESULT \", relnif:format_error(E)]), halt(0).",
                 {Status, Out} = other_vm(Cd, Expr),
                 ?assertEqual({0, Call}, {Status, Call}),
                 ?assertMatch({_, Call}, {binary:match(Out, list_to_binary("RESULT " ++ Text)), Call})
             end || {Cd, Call, Text} <- Calls]
        end)
    end}.

%% Runs Expr in a fresh VM with relnif's code and NIF, in Cd; {ExitStatus, Output}.
other_vm(Cd, Expr) ->
    Erl = os:find_executable("erl"),
    ?assertNotEqual(false, Erl),
    {ok, Nif} = relnif:nif_path(),
    Port = open_port({spawn_executable, Erl},
                     [{args, ["-noshell", "-pa", filename:dirname(code:which(relnif)), "-eval", Expr]},
                      {cd, Cd}, exit_status, binary, stderr_to_stdout, use_stdio,
                      {env, [{"FASTREL_NIF_PATH", Nif}, {"ERL_CRASH_DUMP_SECONDS", "0"}]}]),
    collect(Port, <<>>).

%% The port's output until it exits: {ExitStatus, Output}; a minute at most.
collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, Acc}
    after 60000 ->
        port_close(Port),
        error({timeout, Acc})
    end.

%%% ------------------------------------------------ 3. names and option lists

in_scratch(Fun) ->
    {ok, Cwd} = file:get_cwd(),
    Dir = scratch(),
    ok = file:set_cwd(Dir),
    try Fun(Dir) after ok = file:set_cwd(Cwd) end.

%% A character above 16#10FFFF names no file. systools' script2boot/1 prints "Cannot open
%% ... - bad argument" and returns error; its make_script, make_tar and make_relup return
%% `not_found' for the .rel. relnif raised badarg from the NIF (script2boot, boot2script)
%% or gave an internal `bad_options'; now it returns systools' terms.
names_above_unicode_range_are_systools_errors_test() ->
    in_scratch(fun(_) ->
        N = [$x, 16#110000],
        {error, SysS2b} = systools_lib:file_term2binary(N ++ ".script", N ++ ".boot"),
        ?assertEqual({open, N ++ ".script", badarg}, SysS2b),
        ?assertEqual({error, relnif, SysS2b}, relnif:script2boot_silent(N)),
        ?assertEqual(lists:flatten(systools_make:format_error(SysS2b)), relnif:format_error(SysS2b)),
        ?assertEqual({error, relnif, {not_found, N ++ ".rel"}}, relnif:make_script(N, [silent])),
        ?assertEqual({error, systools_make, {not_found, N ++ ".rel"}}, systools:make_script(N, [silent])),
        ?assertEqual({error, relnif, {not_found, N ++ ".rel"}}, relnif:make_tar(N, [silent])),
        ?assertEqual({error, systools_make, {not_found, N ++ ".rel"}}, systools:make_tar(N, [silent])),
        ?assertEqual({error, relnif, {not_found, N ++ ".rel"}}, relnif:make_relup(N, [], [], [silent])),
        ?assertEqual({error, systools_make, {not_found, N ++ ".rel"}}, systools:make_relup(N, [], [], [silent])),
        %% boot2script has no systools counterpart: file:read_file/1's badarg, as data.
        ?assertEqual({error, relnif, {open, N, badarg}}, relnif:boot2script(N)),
        %% Inside a script such a "name" is only a list of integers: systools writes it
        %% into the boot file as it is, and so does relnif, byte for byte.
        Script = "{script, {[16#110000], \"1\"}, [{path, [[16#7fffffff]]}, {progress, preLoaded}]}.\n",
        [ok = file:write_file(F, Script) || F <- ["s.script", "r.script"]],
        ok = systools:script2boot("s"),
        ok = relnif:script2boot_silent("r"),
        ?assertEqual(file:read_file("s.boot"), file:read_file("r.boot"))
    end).

%% boot2script/1's spec takes file:filename(), atoms included; it raised badarg on one.
boot2script_takes_an_atom_test() ->
    in_scratch(fun(Dir) ->
        ok = file:write_file("a.script", "{script, {\"r\", \"1\"}, [{progress, preLoaded}]}.\n"),
        ok = relnif:script2boot_silent("a"),
        Abs = filename:join(Dir, "a.boot"),
        {ok, Text} = relnif:boot2script(Abs),
        ?assertEqual({ok, Text}, relnif:boot2script(list_to_atom(Abs))),
        ?assertEqual({ok, Text}, relnif:boot2script([Dir, "/", a, ".boot"]))
    end).

%% An improper list as the release name: systools' `RelName ++ ".rel"' raises, and systools
%% returns that crash as `{error, systools_make, {'EXIT', {badarg, Stack}}}' (or prints it
%% and returns error). relnif raised function_clause or badarg; now it returns
%% `{bad_rel_name, Name}', whose text names the name, or prints it and returns error.
improper_release_names_are_errors_test() ->
    in_scratch(fun(_) ->
        Name = "x" ++ y,
        ?assertMatch({error, systools_make, _}, systools:make_script(Name, [silent])),
        ?assertEqual({error, relnif, {bad_rel_name, Name}}, relnif:make_script(Name, [silent])),
        ?assertMatch({error, systools_make, _}, systools:make_tar(Name, [silent])),
        ?assertEqual({error, relnif, {bad_rel_name, Name}}, relnif:make_tar(Name, [silent])),
        ?assertMatch({error, systools_make, _}, systools:make_relup(Name, [], [], [silent])),
        ?assertEqual({error, relnif, {bad_rel_name, Name}}, relnif:make_relup(Name, [], [], [silent])),
        ?assertEqual(error, relnif:make_script(Name)),
        ?assertEqual(error, relnif:make_tar(Name)),
        ?assertEqual(error, relnif:make_relup(Name, [], [])),
        ?assertEqual("Cannot read the release file: its name, [120|y], is not a string\n",
                     relnif:format_error({bad_rel_name, Name}))
    end).

%% An improper option list: systools raises function_clause in its option check (cas/2,
%% cat/2, check_opts/1) before reading anything; relnif raised `{bad_generator, bad}' for
%% make_script and make_tar. Drop-in: the same exception as systools, for all three.
improper_option_lists_raise_as_systools_test() ->
    in_scratch(fun(_) ->
        Opts = [silent | bad],
        Raised = fun(F) -> try F() of R -> {returned, R} catch C:R -> {C, R} end end,
        Cases = [{fun() -> systools:make_script("x", Opts) end, fun() -> relnif:make_script("x", Opts) end},
                 {fun() -> systools:make_tar("r", Opts) end, fun() -> relnif:make_tar("r", Opts) end},
                 {fun() -> systools:make_relup("r", [], [], Opts) end, fun() -> relnif:make_relup("r", [], [], Opts) end}],
        [begin
             ?assertEqual({error, function_clause}, Raised(Sys)),
             ?assertEqual(Raised(Sys), Raised(Rn))
         end || {Sys, Rn} <- Cases]
    end).

%%% ------------------------------------------------ 4, 5. the escript

escript() ->
    {ok, Cwd} = file:get_cwd(),
    E = filename:join(Cwd, "_build/default/bin/fastrel"),
    ?assert(filelib:is_regular(E)),
    E.

%% Runs `/bin/sh -c Script' in Dir with Env added ({Name, false} unsets); returns
%% {ExitStatus, Stdout, Stderr}, a minute at most.
sh(Dir, Script, Env) ->
    Err = filename:join(Dir, ".stderr"),
    Port = open_port({spawn_executable, "/bin/sh"},
                     [{args, ["-c", Script ++ " 2>'" ++ Err ++ "'"]}, {cd, Dir}, exit_status, binary, use_stdio,
                      {env, [{"FASTREL_NIF_PATH", false} | Env]}]),
    {Status, Out} = collect(Port, <<>>),
    {ok, ErrText} = file:read_file(Err),
    {Status, Out, ErrText}.

lines(Bin) -> binary:split(Bin, <<"\n">>, [global, trim_all]).

%% The escript extracts its NIF into the user cache once and loaded whatever was there on
%% every later run: a truncated copy killed each run with SIGBUS (status 135, no message).
%% The copy is now checked against the embedded bytes (size, MD5) and written again
%% (temporary file, rename) when it differs.
damaged_cached_nif_is_extracted_again_test_() ->
    {timeout, 120, fun() ->
        Dir = scratch(),
        Cache = filename:join(Dir, "cache"),
        Env = [{"XDG_CACHE_HOME", Cache}],
        ok = file:write_file(filename:join(Dir, "s.script"), "{script, {\"r\", \"1\"}, [{progress, preLoaded}]}.\n"),
        Cmd = "exec '" ++ escript() ++ "' script2boot s.script",
        ?assertEqual({0, <<>>, <<>>}, sh(Dir, Cmd, Env)),
        {ok, Boot} = file:read_file(filename:join(Dir, "s.boot")),
        [Nif] = filelib:wildcard(filename:join(Cache, "fastrel/*/relnif_nif.so")),
        {ok, Good} = file:read_file(Nif),
        Half = binary:part(Good, 0, byte_size(Good) div 2),
        <<Head:100000/binary, B, Tail/binary>> = Good,
        Damaged = [Half, <<>>, <<Head/binary, (B bxor 16#ff), Tail/binary>>],
        [begin
             ok = file:write_file(Nif, Bad),
             ok = file:delete(filename:join(Dir, "s.boot")),
             ?assertEqual({0, <<>>, <<>>}, sh(Dir, Cmd, Env)),
             ?assertEqual({ok, Boot}, file:read_file(filename:join(Dir, "s.boot"))),
             ?assertEqual({ok, Good}, file:read_file(Nif))
         end || Bad <- Damaged],
        %% No temporary file is left behind.
        ?assertEqual([Nif], filelib:wildcard(filename:join(Cache, "fastrel/*/*")))
    end}.

%% A NIF that does not load: the code server's on_load warning report went to stdout
%% (when the VM lived long enough to print it) and the one stderr line said `not_found'
%% whatever the reason. Now nothing on stdout, one line on stderr naming where the
%% library came from, status 1.
nif_that_does_not_load_is_one_line_on_stderr_test_() ->
    {timeout, 60, fun() ->
        Dir = scratch(),
        Fake = filename:join(Dir, "fake.so"),
        ok = file:write_file(Fake, "not a shared library\n"),
        ok = file:write_file(filename:join(Dir, "s.script"), "{script, {\"r\", \"1\"}, []}.\n"),
        {Status, Out, Err} = sh(Dir, "exec '" ++ escript() ++ "' script2boot s.script", [{"FASTREL_NIF_PATH", Fake}]),
        ?assertEqual({1, <<>>}, {Status, Out}),
        ?assertEqual([<<"fastrel: cannot load fastrel's NIF library (FASTREL_NIF_PATH=",
                        (list_to_binary(Fake))/binary, "); set FASTREL_NIF_PATH to relnif_nif.so">>],
                     lines(Err))
    end}.

%% Arguments that are not UTF-8 (the VM hands them over as `{error, Decoded, Rest}')
%% ended in the last-resort "internal error" line; now one line naming the argument and
%% showing its bytes, status 2 (a usage error), whatever the command. fastrel takes names
%% as UTF-8 text, as the VM's file name encoding is.
invalid_utf8_arguments_are_named_test_() ->
    {timeout, 120, fun() ->
        Dir = scratch(),
        E = "'" ++ escript() ++ "'",
        Ff = "\"$(printf '\\377')\"",
        Cases = [{E ++ " " ++ Ff, "argument 1 (\\xFF)"},
                 {E ++ " script " ++ Ff, "argument 2 (\\xFF)"},
                 {E ++ " script --path " ++ Ff ++ "dir rel", "argument 3 (\\xFFdir)"},
                 {E ++ " script2boot a" ++ Ff ++ ".script", "argument 2 (a\\xFF.script)"},
                 {E ++ " boot2script a" ++ Ff ++ ".boot", "argument 2 (a\\xFF.boot)"},
                 {E ++ " tar " ++ Ff, "argument 2 (\\xFF)"},
                 {E ++ " help " ++ Ff, "argument 2 (\\xFF)"}],
        [begin
             {Status, Out, Err} = sh(Dir, "exec " ++ Cmd, []),
             ?assertEqual({Cmd, 2, <<>>}, {Cmd, Status, Out}),
             ?assertEqual({Cmd, [list_to_binary("fastrel: " ++ Arg ++ " is not valid UTF-8; fastrel takes names in UTF-8")]},
                          {Cmd, lines(Err)})
         end || {Cmd, Arg} <- Cases]
    end}.
