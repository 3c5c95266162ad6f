%% SPDX-License-Identifier: Apache-2.0
%% @doc The `fastrel' escript: a thin shell over `relnif'. Errors go to stderr as plain
%% sentences with exit status 1; usage errors exit with 2.
-module(fastrel_cli).

-export([main/1]).
%% A logger filter, called by logger (so exported, and not part of the command line).
-export([drop_relnif_on_load_report/2]).

-define(EXIT_ERROR, 1).
-define(EXIT_USAGE, 2).

-spec main([string() | tuple()]) -> no_return().
main(Args) ->
    quiet_on_load_failure(),
    halt(try decoded(Args, 1) of
             {ok, Strings} -> run(Strings);
             {bad, N, Shown} ->
                 io:put_chars(standard_error, ["fastrel: argument ", integer_to_list(N), " (", Shown,
                                               ") is not valid UTF-8; fastrel takes names in UTF-8\n"]),
                 ?EXIT_USAGE
         catch Class:Reason -> internal_error(Class, Reason)
         end).

%% The VM decodes arguments as UTF-8 (the file name encoding); one that does not decode
%% arrives as `{error, Decoded, RestBytes}' (OTP 25), which no command can use as a name.
%% Rejected here, naming it, before a command takes it apart.
-spec decoded([string() | tuple()], pos_integer()) -> {ok, [string()]} | {bad, pos_integer(), iodata()}.
decoded([], _) -> {ok, []};
decoded([A | T], N) ->
    case text(A) of
        {ok, S} ->
            case decoded(T, N + 1) of
                {ok, Rest} -> {ok, [S | Rest]};
                Bad -> Bad
            end;
        {bad, Shown} -> {bad, N, Shown}
    end.

text(A) when is_list(A) -> {ok, A};
text(A) when is_binary(A) ->
    case unicode:characters_to_list(A) of
        L when is_list(L) -> {ok, L};
        {_, Good, Rest} -> {bad, shown(Good, Rest)}
    end;
text({Kind, Good, Rest}) when (Kind =:= error orelse Kind =:= incomplete), is_binary(Rest) ->
    {bad, shown(unicode:characters_to_list(Good), Rest)}.

%% The argument for the terminal: what decoded, then the rest byte by byte, escaped
%% unless printable ASCII.
shown(Good, Rest) ->
    [unicode:characters_to_binary(Good)
     | [if B >= 16#20, B < 16#7f -> B; true -> io_lib:format("\\x~2.16.0B", [B]) end || <<B>> <= Rest]].

%% When the NIF cannot load, relnif's on_load returns the reason and the code server
%% reports it with a multi-line warning on the escript's stdout; with_nif/1 says it in one
%% line on stderr instead, so the report is dropped.
quiet_on_load_failure() ->
    _ = logger:add_primary_filter(fastrel_cli_on_load, {fun ?MODULE:drop_relnif_on_load_report/2, []}),
    ok.

-spec drop_relnif_on_load_report(logger:log_event(), term()) -> logger:filter_return().
drop_relnif_on_load_report(#{msg := {report, #{format := F, args := [relnif | _]}}}, _) ->
    drop_if_on_load(F);
drop_relnif_on_load_report(#{msg := {F, [relnif | _]}}, _) ->
    drop_if_on_load(F);
drop_relnif_on_load_report(_, _) ->
    ignore.

drop_if_on_load(F) ->
    case (is_list(F) orelse is_binary(F)) andalso string:find(F, "on_load") =/= nomatch of
        true -> stop;
        false -> ignore
    end.

%% What no command turned into a sentence: still one line and status 1, never a stack
%% trace on the user's terminal.
internal_error(Class, Reason) ->
    Text = io_lib:format("internal error (~p: ~0tP); please report it", [Class, Reason, 12]),
    fail(unicode:characters_to_list(string:replace(lists:flatten(Text), "\n", " ", all))).

run([]) -> usage_error("no command given");
run(["--help"]) -> out(usage()), 0;
run(["-h"]) -> out(usage()), 0;
run(["help"]) -> out(usage()), 0;
run(["help", Cmd]) ->
    case command_help(Cmd) of
        undefined -> usage_error("unknown command: " ++ Cmd);
        Text -> out(Text), 0
    end;
run(["--version"]) -> out("fastrel " ++ version() ++ "\n"), 0;
run([Cmd | Rest]) ->
    case command_help(Cmd) =/= undefined andalso lists:member("--help", Rest) of
        true -> out(command_help(Cmd)), 0;
        false -> with_nif(fun() -> command(Cmd, Rest) end)
    end.

command("script", Args) ->
    case parse_script_args(Args, undefined, []) of
        {ok, Rel, Opts} -> make_script(Rel, Opts);
        {usage, Msg} -> usage_error(Msg)
    end;
command("boot2script", [Boot]) ->
    case relnif:boot2script(Boot) of
        {ok, Text} -> io:put_chars(Text), 0;
        {error, relnif, R} -> fail(relnif:format_error(R))
    end;
command("boot2script", [Boot, "-o", Out]) ->
    case relnif:boot2script(Boot, Out) of
        ok -> 0;
        {error, relnif, R} -> fail(relnif:format_error(R))
    end;
command("script2boot", [Script]) ->
    Base = filename:rootname(Script, ".script"),
    case relnif:script2boot_silent(Base) of
        ok -> 0;
        {error, relnif, R} -> fail(relnif:format_error(R))
    end;
command("erts-overlay", [Dir]) ->
    case fastrel_overlay:create(Dir) of
        {ok, Erl} ->
            Bin = filename:join(filename:dirname(Erl), "bin"),
            io:format("Run nodes with fastrel's heart through:~n  ~ts -heart ...~n"
                      "Detached and logged, with fastrel's run_erl (attach with ~ts/to_erl PIPE_DIR/):~n"
                      "  ~ts/run_erl -daemon PIPE_DIR/ LOG_DIR \"exec ~ts -heart ...\"~n",
                      [Erl, Bin, Bin, Erl]),
            0;
        {error, Reason} -> fail(fastrel_overlay:format_error(Reason))
    end;
command("tar", [Dir | Rest]) ->
    case parse_tar_args(Rest, #{opts => []}) of
        {ok, Opts} ->
            case fastrel_mix:tar(Dir, Opts) of
                {ok, Out} -> io:format("~ts~n", [Out]), 0;
                {error, E} -> fail(fastrel_mix:format_error(E))
            end;
        {usage, Msg} -> usage_error(Msg)
    end;
command("mix", ["heart", Dir | Rest]) ->
    case parse_heart_args(Rest, #{}) of
        {ok, Opts} ->
            case fastrel_mix:heart(Dir, Opts) of
                {ok, [Bin]} ->
                    io:format("~ts runs fastrel's heart, run_erl and to_erl (from ~ts) in daemon mode.~n"
                              "Attach with: ~ts/to_erl ~ts/tmp/pipe/~n", [Dir, Bin, Bin, filename:absname(Dir)]),
                    0;
                {error, E} -> fail(fastrel_mix:format_error(E))
            end;
        {usage, Msg} -> usage_error(Msg)
    end;
command("systemd-unit", [Dir | Rest]) when hd(Dir) =/= $- ->
    case parse_unit_args(Rest, #{}) of
        {ok, Opts} ->
            case fastrel_mix:systemd_unit(Dir, Opts) of
                {ok, Text} -> out(Text), 0;
                {error, E} -> fail(fastrel_mix:format_error(E))
            end;
        {usage, Msg} -> usage_error(Msg)
    end;
command("appup", Args) ->
    case parse_appup_args(Args, #{}) of
        {ok, #{old := Old, new := New} = A} ->
            case fastrel_appup:for_releases(Old, New, maps:get(name, A, undefined)) of
                {ok, Results} ->
                    [io:format("~ts~n", [fastrel_appup:format_result(R)]) || R <- Results],
                    0;
                {error, fastrel_appup, R} -> fail(fastrel_appup:format_error(R))
            end;
        {usage, Msg} -> usage_error(Msg)
    end;
command("relup", [Dir | Rest]) when hd(Dir) =/= $- ->
    case parse_relup_args(Rest, #{dir => Dir, name => filename:basename(filename:absname(Dir))}) of
        {ok, Opts} ->
            Log = fun(F, A) -> io:format(standard_error, F ++ "~n", A) end,
            case fastrel_upgrade:relup(Opts#{log => Log}) of
                {ok, #{relup := Relup}} -> io:format("~ts~n", [Relup]), 0;
                {error, E} -> fail(fastrel_upgrade:format_error(E))
            end;
        {usage, Msg} -> usage_error(Msg)
    end;
command(Cmd, _) ->
    case command_help(Cmd) of
        undefined -> usage_error("unknown command: " ++ Cmd);
        _ -> usage_error("wrong arguments for " ++ Cmd ++ "; see: fastrel help " ++ Cmd)
    end.

make_script(Rel, Opts) ->
    case relnif:make_script(Rel, [silent | lists:reverse(Opts)]) of
        {ok, relnif, Warnings} ->
            io:put_chars(standard_error, relnif:format_warning(Warnings)),
            0;
        {error, relnif, Reason} ->
            fail(relnif:format_error(Reason))
    end.

parse_script_args([], undefined, _) -> {usage, "script needs a release name (REL or REL.rel)"};
parse_script_args([], Rel, Opts) -> {ok, Rel, Opts};
parse_script_args(["--local" | T], R, O) -> parse_script_args(T, R, [local | O]);
parse_script_args(["--no-dot-erlang" | T], R, O) -> parse_script_args(T, R, [no_dot_erlang | O]);
parse_script_args(["--warnings-as-errors" | T], R, O) -> parse_script_args(T, R, [warnings_as_errors | O]);
parse_script_args(["--src-tests" | T], R, O) -> parse_script_args(T, R, [src_tests | O]);
parse_script_args(["--no-warn-sasl" | T], R, O) -> parse_script_args(T, R, [no_warn_sasl | O]);
parse_script_args(["--exref" | T], R, O) -> parse_script_args(T, R, [exref | O]);
parse_script_args(["--path", Dir | T], R, O) -> parse_script_args(T, R, add_path(Dir, O));
parse_script_args(["--outdir", Dir | T], R, O) -> parse_script_args(T, R, [{outdir, Dir} | O]);
parse_script_args(["--script-name", N | T], R, O) -> parse_script_args(T, R, [{script_name, N} | O]);
parse_script_args(["--var", Def | T], R, O) ->
    case string:split(Def, "=") of
        [Name, Prefix] when Name =/= "", Prefix =/= "" -> parse_script_args(T, R, add_var(Name, Prefix, O));
        _ -> {usage, "--var wants NAME=PREFIX, got: " ++ Def}
    end;
parse_script_args(["-" ++ _ = Flag | _], _, _) -> {usage, "unknown option for script: " ++ Flag};
parse_script_args([Rel | T], undefined, O) -> parse_script_args(T, strip_rel(Rel), O);
parse_script_args([Extra | _], _, _) -> {usage, "unexpected argument: " ++ Extra}.

%% Repeated --path/--var accumulate into one option, as systools reads only the first.
add_path(Dir, O) ->
    case lists:keytake(path, 1, O) of
        {value, {path, Ds}, O1} -> [{path, Ds ++ [Dir]} | O1];
        false -> [{path, [Dir]} | O]
    end.

add_var(Name, Prefix, O) ->
    case lists:keytake(variables, 1, O) of
        {value, {variables, Vs}, O1} -> [{variables, Vs ++ [{Name, Prefix}]} | O1];
        false -> [{variables, [{Name, Prefix}]} | O]
    end.

strip_rel(Rel) ->
    case filename:extension(Rel) of
        ".rel" -> filename:rootname(Rel);
        _ -> Rel
    end.

%% relnif:nif_path/0 cannot say where the library was looked for once relnif failed to
%% load: calling it would only try (and report) the load again.
with_nif(Fun) ->
    case code:ensure_loaded(relnif) of
        {module, relnif} -> Fun();
        _ ->
            Where = case os:getenv("FASTREL_NIF_PATH") of
                        P when P =:= false; P =:= "" -> "the one in the escript";
                        P -> "FASTREL_NIF_PATH=" ++ P
                    end,
            fail(io_lib:format("cannot load fastrel's NIF library (~ts); set FASTREL_NIF_PATH to relnif_nif.so",
                               [Where]))
    end.

fail(Text) ->
    io:put_chars(standard_error, ["fastrel: ", string:trim(Text, trailing), "\n"]),
    ?EXIT_ERROR.

usage_error(Msg) ->
    io:put_chars(standard_error, ["fastrel: ", Msg, "\n", "Try 'fastrel --help'.\n"]),
    ?EXIT_USAGE.

out(Text) -> io:put_chars(Text).

version() ->
    _ = application:load(fastrel),
    case application:get_key(fastrel, vsn) of
        {ok, V} -> V;
        undefined -> "unknown"
    end.

usage() ->
    "usage: fastrel <command> [options]\n"
    "\n"
    "Commands:\n"
    "  script REL          write REL.script and REL.boot (as systools:make_script/2)\n"
    "  boot2script FILE    print the script text of a .boot file\n"
    "  script2boot FILE    write FILE.boot from FILE.script (as systools:script2boot/1)\n"
    "  erts-overlay DIR    an `erl' in DIR whose nodes run fastrel's heart, run_erl, to_erl\n"
    "  tar REL_DIR         pack an assembled release (mix release or relx layout) into a .tar.gz\n"
    "  relup REL_DIR       write releases/VSN/relup for a hot upgrade (as rebar3 relup)\n"
    "  mix heart REL_DIR   make a mix release run on fastrel's heart, run_erl and to_erl\n"
    "  systemd-unit REL_DIR  print a systemd service for a mix release (after mix heart)\n"
    "  appup OLD NEW       write appups for the apps that changed between two releases\n"
    "  help CMD            describe a command\n"
    "\n"
    "Options: --help, --version\n".

command_help("script") ->
    "usage: fastrel script REL [options]\n"
    "\n"
    "Reads REL.rel and the .app files of its applications and writes REL.script and\n"
    "REL.boot, byte-identical to systools:make_script/2 on this OTP release.\n"
    "\n"
    "  --local               paths where the applications were found, not $ROOT/lib\n"
    "  --path DIR            also search DIR for .app files (repeatable; * wildcards)\n"
    "  --outdir DIR          write the files into DIR\n"
    "  --script-name NAME    name the files NAME.script and NAME.boot\n"
    "  --var NAME=PREFIX     write paths under PREFIX as $NAME/... (repeatable)\n"
    "  --no-dot-erlang       do not load $HOME/.erlang at boot\n"
    "  --warnings-as-errors  fail, writing nothing, on any warning\n"
    "  --no-warn-sasl        do not warn when sasl is missing\n"
    "  --src-tests           check every module's .beam exists and its source is older\n"
    "  --exref               check for calls to undefined functions (xref)\n";
command_help("boot2script") ->
    "usage: fastrel boot2script FILE.boot [-o FILE.script]\n"
    "\n"
    "Decodes a boot file and prints its script text (as systools writes .script files),\n"
    "or writes it to the file given with -o.\n";
command_help("script2boot") ->
    "usage: fastrel script2boot FILE.script\n"
    "\n"
    "Writes FILE.boot from FILE.script, as systools:script2boot/1.\n";
command_help("tar") ->
    "usage: fastrel tar REL_DIR [-o FILE] [--reproducible] [--compression-level N] [--follow-symlinks-outside]\n"
    "\n"
    "Packs a release directory. A `mix release' (releases/VSN/elixir present) gets the\n"
    "entries of mix's :tar step, in its order, written to _build/ENV/NAME-VSN.tar.gz like\n"
    "mix's; a relx-layout release (rebar3 release, rebar3 fastrel release) gets the entries\n"
    "of rebar3 tar, in REL_DIR/NAME-VSN.tar.gz. gzip runs on every core. An entry named\n"
    "outside the release, or a symlink inside a packed directory pointing out of it, is an\n"
    "error (--follow-symlinks-outside packs such a link's target instead).\n";
command_help("relup") ->
    "usage: fastrel relup REL_DIR [-n NAME] [-v VSN] [-u UPFROM]\n"
    "\n"
    "Writes REL_DIR/releases/VSN/relup, up from and down to UPFROM, as `rebar3 relup':\n"
    "REL_DIR is an assembled release (e.g. _build/default/rel/NAME) into which both\n"
    "versions were built (releases/*/NAME.rel, lib/APP-VSN). Every application whose\n"
    "version changed needs lib/APP-NEWVSN/ebin/APP.appup.\n"
    "\n"
    "  -n, --relname NAME   release name (default: the basename of REL_DIR)\n"
    "  -v, --relvsn VSN     version to upgrade to (default: the newest in REL_DIR)\n"
    "  -u, --upfrom VSN     version to upgrade from (default: the newest before VSN)\n";
command_help("systemd-unit") ->
    "usage: fastrel systemd-unit REL_DIR [--timeout S] [--user USER]\n"
    "\n"
    "Prints a systemd service for the mix release in REL_DIR, made to run on fastrel's heart\n"
    "by `fastrel mix heart' first (a relx-layout release has `bin/NAME systemd-unit'):\n"
    "Type=notify (heart sends READY=1, WATCHDOG=1, STOPPING=1), -heart with\n"
    "HEART_BEAT_TIMEOUT S (default 60) and WatchdogSec 2*S+30, `bin/NAME start' in the\n"
    "foreground, an ExecStop that waits for the VM to exit. heart restarts the VM (with\n"
    "`bin/NAME daemon', at most HEART_MAX_RESTARTS=3 times an hour), systemd the unit when\n"
    "heart gives up or dies. USER defaults to the owner of REL_DIR.\n";
command_help("mix") ->
    "usage: fastrel mix heart REL_DIR [--timeout S] [--command CMD]\n"
    "\n"
    "Makes the release `mix release' assembled in REL_DIR (e.g. _build/prod/rel/NAME) run\n"
    "under fastrel's heart, run_erl and to_erl: they replace OTP's in the release's\n"
    "erts-VSN/bin, or, without a bundled ERTS, go into REL_DIR/fastrel/erts/bin, which\n"
    "releases/VSN/elixir's ERTS_BIN is pointed at (the system's ERTS is not touched). In\n"
    "releases/VSN/env.sh a marked block turns on -heart (HEART_BEAT_TIMEOUT S, default 30)\n"
    "in daemon mode with HEART_COMMAND defaulting to `bin/NAME daemon' (or CMD); a\n"
    "HEART_COMMAND set in the environment wins. Running it again changes nothing more.\n";
command_help("erts-overlay") ->
    "usage: fastrel erts-overlay DIR\n"
    "\n"
    "Creates DIR/bin, links to this ERTS's programs with fastrel's heart, run_erl and\n"
    "to_erl in place of OTP's, and DIR/erl, which starts nodes with that bin directory.\n"
    "The system's ERTS is not modified: `DIR/erl -heart ...' runs fastrel's heart,\n"
    "`DIR/bin/run_erl' and `DIR/bin/to_erl' are fastrel's; plain `erl' is still OTP's.\n";
command_help("appup") ->
    "usage: fastrel appup OLD_REL_DIR NEW_REL_DIR [-n NAME]\n"
    "\n"
    "For each application of the release in NEW_REL_DIR (relx layout: releases/VSN/NAME.rel,\n"
    "lib/APP-VSN) whose version differs from the previous release's, writes\n"
    "lib/APP-VSN/ebin/APP.appup from the code diff (beam MD5s): add_module, delete_module,\n"
    "load_module, and update for gen_server, gen_statem, gen_event, gen_fsm and supervisor\n"
    "modules. OLD_REL_DIR is the previous release's directory, its lib/, or NEW_REL_DIR\n"
    "itself when both versions were built there (its older releases/VSN/NAME.rel is used).\n"
    "An appup already there that fastrel did not generate is kept. -n names the release\n"
    "when NEW_REL_DIR/releases holds several.\n";
command_help(_) ->
    undefined.

parse_tar_args([], Acc) -> {ok, Acc};
parse_tar_args(["-o", Out | T], Acc) -> parse_tar_args(T, Acc#{out => Out});
parse_tar_args(["--reproducible" | T], #{opts := O} = Acc) -> parse_tar_args(T, Acc#{opts => [{reproducible, true} | O]});
parse_tar_args(["--follow-symlinks-outside" | T], #{opts := O} = Acc) -> parse_tar_args(T, Acc#{opts => [{follow_symlinks, outside} | O]});
parse_tar_args(["--compression-level", L | T], #{opts := O} = Acc) ->
    case to_int(L) of
        N when is_integer(N), N >= 0, N =< 9 -> parse_tar_args(T, Acc#{opts => [{compression_level, N} | O]});
        _ -> {usage, "--compression-level takes 0..9"}
    end;
parse_tar_args([Other | _], _) -> {usage, "unknown option: " ++ Other}.

parse_appup_args([], #{new := _} = Acc) -> {ok, Acc};
parse_appup_args([], _) -> {usage, "appup needs OLD_REL_DIR and NEW_REL_DIR"};
parse_appup_args(["-n", N | T], Acc) -> parse_appup_args(T, Acc#{name => N});
parse_appup_args(["-" ++ _ = Flag | _], _) -> {usage, "unknown option for appup: " ++ Flag};
parse_appup_args([Old | T], Acc) when not is_map_key(old, Acc) -> parse_appup_args(T, Acc#{old => Old});
parse_appup_args([New | T], Acc) when not is_map_key(new, Acc) -> parse_appup_args(T, Acc#{new => New});
parse_appup_args([Extra | _], _) -> {usage, "unexpected argument: " ++ Extra}.

%% rebar3 relup's options: -n/--relname, -v/--relvsn, -u/--upfrom.
parse_relup_args([], Acc) -> {ok, Acc};
parse_relup_args([Flag, N | T], Acc) when Flag =:= "-n"; Flag =:= "--relname" -> parse_relup_args(T, Acc#{name => N});
parse_relup_args([Flag, V | T], Acc) when Flag =:= "-v"; Flag =:= "--relvsn" -> parse_relup_args(T, Acc#{vsn => V});
parse_relup_args([Flag, U | T], Acc) when Flag =:= "-u"; Flag =:= "--upfrom" -> parse_relup_args(T, Acc#{upfrom => U});
parse_relup_args([Other | _], _) -> {usage, "unknown option for relup: " ++ Other}.

parse_unit_args([], Acc) -> {ok, Acc};
parse_unit_args(["--user", U | T], Acc) -> parse_unit_args(T, Acc#{user => U});
parse_unit_args(["--timeout", S | T], Acc) ->
    case to_int(S) of
        N when is_integer(N), N >= 10, N =< 65535 -> parse_unit_args(T, Acc#{timeout => N});
        _ -> {usage, "--timeout takes seconds, 10..65535 (heart's valid range)"}
    end;
parse_unit_args([Other | _], _) -> {usage, "unexpected argument for systemd-unit: " ++ Other}.

parse_heart_args([], Acc) -> {ok, Acc};
parse_heart_args(["--timeout", S | T], Acc) ->
    case to_int(S) of
        N when is_integer(N), N >= 10, N =< 65535 -> parse_heart_args(T, Acc#{timeout => N});
        _ -> {usage, "--timeout takes seconds, 10..65535 (heart's valid range)"}
    end;
parse_heart_args(["--command", C | T], Acc) -> parse_heart_args(T, Acc#{command => C});
parse_heart_args([Other | _], _) -> {usage, "unknown option: " ++ Other}.

to_int(S) ->
    try list_to_integer(S) catch error:badarg -> undefined end.
