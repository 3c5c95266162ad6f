%% SPDX-License-Identifier: Apache-2.0
%% @doc fastrel for releases assembled by `mix release': make them run under fastrel's
%% heart, run_erl and to_erl (`heart/2'), and pack them as the `:tar' step does, faster
%% (`tar/2').
%%
%% An Elixir release runs `releases/VSN/elixir', which execs `$ERTS_BIN/erl' (and
%% `$ERTS_BIN/run_erl' for `daemon'); heart is then found on the PATH erlexec builds from
%% BINDIR. So with a bundled ERTS the release's own `erts-VSN/bin' gets fastrel's three
%% programs; without one, `ERTS_BIN' (which Elixir documents as changeable) points at a
%% private bin directory inside the release (`fastrel/erts/bin', an erts overlay). The
%% system's ERTS is never touched. `releases/VSN/env.sh' gets a marked block that turns
%% heart on in daemon mode; running it again replaces that block, nothing else.
-module(fastrel_mix).

-export([heart/2, tar/2, systemd_unit/2, format_error/1]).

-define(BEGIN, "# >>> fastrel mix heart (managed block: edit with `fastrel mix heart', not by hand)\n").
-define(END, "# <<< fastrel mix heart\n").

-type heart_opts() :: #{timeout => pos_integer(), command => string()}.

%% @doc Installs fastrel's programs into the release at `RelDir' and enables heart.
-spec heart(file:filename(), heart_opts()) -> {ok, [string()]} | {error, {?MODULE, term()}}.
heart(RelDir0, Opts) ->
    RelDir = filename:absname(RelDir0),
    try
        {Erts, Vsn} = start_erl_data(RelDir),
        VsnDir = filename:join([RelDir, "releases", Vsn]),
        filelib:is_regular(filename:join(VsnDir, "elixir")) orelse throw({not_a_mix_release, RelDir}),
        ErtsBin = filename:join([RelDir, "erts-" ++ Erts, "bin"]),
        Where = case filelib:is_dir(ErtsBin) of
                    true ->
                        case fastrel_overlay:install_programs(ErtsBin) of
                            ok -> ok;
                            {error, E} -> throw({overlay, E})
                        end,
                        ErtsBin;
                    false ->
                        Ovl = filename:join([RelDir, "fastrel", "erts"]),
                        case fastrel_overlay:create(Ovl, #{erl_in_bin => true}) of
                            {ok, _} -> ok;
                            {error, E} -> throw({overlay, E})
                        end,
                        point_erts_bin(filename:join(VsnDir, "elixir")),
                        filename:join(Ovl, "bin")
                end,
        env_block(filename:join(VsnDir, "env.sh"), Opts),
        {ok, [Where]}
    catch
        throw:Reason -> {error, {?MODULE, Reason}}
    end.

start_erl_data(RelDir) ->
    File = filename:join([RelDir, "releases", "start_erl.data"]),
    case file:read_file(File) of
        {ok, B} ->
            case string:lexemes(binary_to_list(B), " \n") of
                [Erts, Vsn] -> {Erts, Vsn};
                _ -> throw({bad_start_erl_data, File})
            end;
        {error, _} -> throw({not_a_release, RelDir})
    end.

%% Only the first, user-editable `ERTS_BIN=' line; the second (written by mix when ERTS
%% is bundled) is absent here.
point_erts_bin(Elixir) ->
    {ok, B} = file:read_file(Elixir),
    Ours = <<"ERTS_BIN=\"$SCRIPT_PATH\"/../../fastrel/erts/bin/ # fastrel mix heart">>,
    case binary:match(B, Ours) of
        nomatch ->
            case binary:split(B, <<"\nERTS_BIN=\n">>) of
                [Before, After] -> install(Elixir, [Before, <<"\n">>, Ours, <<"\n">>, After]);
                _ -> throw({no_erts_bin_line, Elixir})
            end;
        _ -> ok
    end.

env_block(EnvSh, Opts) ->
    {ok, B} = file:read_file(EnvSh),
    Text = binary_to_list(B),
    Without = case string:split(Text, ?BEGIN) of
                  [Before, Rest] ->
                      case string:split(Rest, ?END) of
                          [_, After] -> Before ++ After;
                          _ -> throw({broken_block, EnvSh})
                      end;
                  _ -> Text
              end,
    Timeout = maps:get(timeout, Opts, 30),
    %% The release path is quoted when env.sh runs (heart runs HEART_COMMAND with sh -c,
    %% so the path meets a shell twice); a --command is taken as the user wrote it.
    Assign = case maps:get(command, Opts, undefined) of
                 undefined -> "HEART_COMMAND=\"$(_fastrel_sh_quote \"$RELEASE_ROOT/bin/$RELEASE_NAME\") daemon\"";
                 Cmd -> "HEART_COMMAND=" ++ lists:flatten([$', string:replace(Cmd, "'", "'\\''", all), $'])
             end,
    Block = [?BEGIN,
             "# fastrel's heart watches the node in daemon mode and restarts it with\n",
             "# HEART_COMMAND; a HEART_COMMAND already in the environment wins.\n",
             "_fastrel_sh_quote() { printf \"'%s'\" \"$(printf '%s' \"$1\" | sed \"s/'/'\\\\\\\\''/g\")\"; }\n",
             "case $RELEASE_COMMAND in\n",
             "  daemon*)\n",
             "    if [ -z \"${HEART_COMMAND:-}\" ]; then\n",
             "      ", Assign, "\n",
             "    fi\n",
             "    export HEART_COMMAND\n",
             "    # Once: a restart by heart inherits this environment.\n",
             "    case \" ${ELIXIR_ERL_OPTIONS:-} \" in\n",
             "      *\" -heart \"*) ;;\n",
             "      *) ELIXIR_ERL_OPTIONS=\"${ELIXIR_ERL_OPTIONS:-} -heart -env HEART_BEAT_TIMEOUT ", integer_to_list(Timeout), "\" ;;\n",
             "    esac\n",
             "    export ELIXIR_ERL_OPTIONS\n",
             "    ;;\n",
             "esac\n",
             ?END],
    New = [string:trim(Without, trailing, "\n"), "\n\n", Block],
    case iolist_to_binary(New) =:= B of
        true -> ok;
        false -> install(EnvSh, New)
    end.

%% Atomically, keeping the mode of the file replaced: a node starting meanwhile reads the
%% old script or the new one.
install(Path, Data) ->
    case file:read_file(Path) of
        {ok, Same} when Same =:= Data -> ok;
        _ ->
            Mode = case file:read_file_info(Path) of
                       {ok, I} -> element(8, I) band 8#7777;
                       _ -> 8#755
                   end,
            case fastrel_file:write_atomic(Path, Data, Mode) of
                ok -> ok;
                {error, Why} -> throw({write, Path, Why})
            end
    end.

%%% ---------------------------------------------------------------- tar

%% @doc Packs the release at `RelDir' into `Out' (default: mix's own place,
%% `_build/ENV/NAME-VSN.tar.gz' for a mix release, `RelDir/NAME-VSN.tar.gz' for a relx
%% one) with the entries the assembler's tar step would write. Returns the file.
-spec tar(file:filename(), #{out => file:filename(), opts => [term()]}) ->
          {ok, file:filename()} | {error, {?MODULE, term()}}.
tar(RelDir0, Opts) ->
    RelDir = filename:absname(RelDir0),
    try
        {Erts, Vsn} = start_erl_data(RelDir),
        VsnDir = filename:join([RelDir, "releases", Vsn]),
        {Name, Apps} = rel_file(VsnDir),
        Mix = filelib:is_regular(filename:join(VsnDir, "elixir")),
        Out = case maps:find(out, Opts) of
                  {ok, O} -> filename:absname(O);
                  error when Mix -> filename:join(filename:dirname(filename:dirname(RelDir)), Name ++ "-" ++ Vsn ++ ".tar.gz");
                  error -> filename:join(RelDir, Name ++ "-" ++ Vsn ++ ".tar.gz")
              end,
        case Mix of
            true ->
                Entries = mix_entries(RelDir, Erts, Vsn, Apps),
                case relnif:tar_files(Out, [{filename:join(RelDir, E), E} || E <- Entries], [{symlinks, beside} | maps:get(opts, Opts, [])]) of
                    ok -> {ok, Out};
                    {error, relnif, E} -> throw({tar, {relnif, E}})
                end;
            false ->
                %% relx's layout: systools' entries plus relx's extra files, as rebar3 fastrel tar.
                R = #{name => list_to_atom(Name), vsn => Vsn, dir => RelDir, erts_vsn => Erts,
                      include_erts => filelib:is_dir(filename:join(RelDir, "erts-" ++ Erts)),
                      system_libs => filelib:is_regular(filename:join([RelDir, "releases", "RELEASES"])),
                      include_src => false, overlay_targets => []},
                case fastrel_release:tar(R, maps:get(opts, Opts, [])) of
                    {ok, Made} when Made =:= Out -> {ok, Out};
                    {ok, Made} -> move(Made, Out), {ok, Out};
                    {error, E} -> throw({tar, E})
                end
        end
    catch
        throw:Reason -> {error, {?MODULE, Reason}}
    end.

rel_file(VsnDir) ->
    case [filename:join(VsnDir, F) || F <- filelib:wildcard("*.rel", VsnDir)] of
        [F | _] ->
            case relnif:consult(F) of
                {ok, [{release, {Name, _}, _, Apps}]} when is_list(Name), is_list(Apps) ->
                    case [{element(1, A), element(2, A)} || A <- Apps, is_tuple(A), tuple_size(A) >= 2] of
                        Pairs when length(Pairs) =:= length(Apps) -> {Name, Pairs};
                        _ -> throw({bad_rel_file, F})
                    end;
                {ok, _} -> throw({bad_rel_file, F});
                {error, E} -> throw({bad_rel_file, F, E})
            end;
        [] -> throw({no_rel_file, VsnDir})
    end.

%% mix's :tar step: bin, releases/VSN, erts-VSN, each lib/APP-VSN, then the files directly
%% in releases/. mix walks its applications map into a list it builds backwards. The map's
%% order is the VM's: by name on OTP 25, by atom-table index on OTP 26+ for up to 32
%% applications, by hash beyond. A map built here has it, with the atoms made in the order
%% the release names them, as they were in the VM that ran mix (OTP's own applications
%% first, then Elixir's, then the project's).
mix_entries(RelDir, Erts, Vsn, Apps) ->
    Exists = fun(P) -> filelib:is_file(filename:join(RelDir, P)) end,
    InMapOrder = maps:to_list(maps:from_list(Apps)),
    ["bin", "releases/" ++ Vsn] ++ ["erts-" ++ Erts || Exists("erts-" ++ Erts)]
    ++ ["lib/" ++ atom_to_list(A) ++ "-" ++ V || {A, V} <- lists:reverse(InMapOrder), Exists("lib/" ++ atom_to_list(A) ++ "-" ++ V)]
    ++ ["releases/" ++ F || F <- lists:sort(element(2, file:list_dir(filename:join(RelDir, "releases")))),
                            filelib:is_regular(filename:join([RelDir, "releases", F]))].

%% @doc A systemd service for the mix release at `RelDir' (after `heart/2': OTP's heart
%% does not speak systemd's notify protocol). As `bin/NAME systemd-unit' of a relx-layout
%% release: Type=notify through heart, WatchdogSec from heart's timeout (`timeout',
%% default 60), `bin/NAME start' in the foreground, an ExecStop that waits for the VM to
%% exit (mix's `stop' does not), heart restarting the VM and systemd the unit.
-spec systemd_unit(file:filename(), #{timeout => pos_integer(), user => string()}) ->
          {ok, iolist()} | {error, {?MODULE, term()}}.
systemd_unit(RelDir0, Opts) ->
    RelDir = filename:absname(RelDir0),
    try
        {_, Vsn} = start_erl_data(RelDir),
        VsnDir = filename:join([RelDir, "releases", Vsn]),
        filelib:is_regular(filename:join(VsnDir, "elixir")) orelse throw({not_a_mix_release, RelDir}),
        {Name, _} = rel_file(VsnDir),
        {ok, Env} = case file:read_file(filename:join(VsnDir, "env.sh")) of
                        {ok, _} = R -> R;
                        {error, _} -> throw({no_fastrel_heart, RelDir})
                    end,
        binary:match(Env, list_to_binary(?BEGIN)) =/= nomatch orelse throw({no_fastrel_heart, RelDir}),
        T = maps:get(timeout, Opts, 60),
        User = case maps:find(user, Opts) of
                   {ok, U} -> U;
                   error -> string:trim(os:cmd("stat -c %U -- '" ++ string:replace(RelDir, "'", "'\\''", all) ++ "' 2>/dev/null || id -un"))
               end,
        Bin = unit_escape(filename:join([RelDir, "bin", Name])),
        Root = unit_escape(RelDir),
        Quoted = unit_escape([$', string:replace(filename:join([RelDir, "bin", Name]), "'", "'\\''", all), $']),
        {ok, ["# systemd service for the ", Name, " ", Vsn, " mix release, printed by \"fastrel systemd-unit\".\n",
              "#   fastrel systemd-unit REL_DIR > /etc/systemd/system/", Name, ".service\n",
              "#   systemctl daemon-reload && systemctl enable --now ", Name, "\n",
              "#\n",
              "# Who restarts what: heart restarts the VM when it dies or stops answering for\n",
              "# HEART_BEAT_TIMEOUT s (running HEART_COMMAND), at most HEART_MAX_RESTARTS times in\n",
              "# HEART_RESTART_WINDOW s; the unit stays up meanwhile (ExitType=cgroup). systemd\n",
              "# restarts the unit when heart gives up, dies, or sends no WATCHDOG=1 for WatchdogSec.\n",
              "[Unit]\nDescription=", Name, " ", Vsn, " (Elixir release)\n",
              "Wants=network-online.target\nAfter=network-online.target\n\n",
              "[Service]\nType=notify\n",
              "# fastrel's heart sends READY=1 (first heartbeat), WATCHDOG=1 (each one) and STOPPING=1.\n",
              "NotifyAccess=all\nExitType=cgroup\n",
              "User=", User, "\nWorkingDirectory=", Root, "\n",
              "RuntimeDirectory=", Name, "\nLogsDirectory=", Name, "\n",
              "Environment=RELEASE_TMP=%t/", Name, "\n",
              "Environment=HEART_STATE_DIR=%t/", Name, "\n",
              "Environment=\"ELIXIR_ERL_OPTIONS=-heart -env HEART_BEAT_TIMEOUT ", integer_to_list(T), "\"\n",
              "Environment=HEART_MAX_RESTARTS=3 HEART_RESTART_WINDOW=3600\n",
              "Environment=\"HEART_COMMAND=", Quoted, " daemon\"\n",
              "ExecStart=\"", Bin, "\" start\n",
              "# mix's stop returns before the VM has finished init:stop(); wait for its pid.\n",
              "ExecStop=/bin/sh -c 'pid=$$(\"$$0\" pid) || exit 0; \"$$0\" stop || exit 1; "
              "while kill -0 \"$$pid\" 2>/dev/null; do sleep 1; done' \"", Bin, "\"\n",
              "# heart's own timeout, a restart, and the new node's first heartbeat fit in it.\n",
              "WatchdogSec=", integer_to_list(2 * T + 30), "\n",
              "TimeoutStartSec=90\nTimeoutStopSec=90\n",
              "# SIGTERM (init:stop()) to the VM only; heart and run_erl go with it.\n",
              "KillMode=mixed\nRestart=on-failure\nRestartSec=5\n\n",
              "[Install]\nWantedBy=multi-user.target\n"]}
    catch
        throw:Reason -> {error, {?MODULE, Reason}}
    end.

%% For a unit file: \ and " escaped (inside a quoted word), % doubled (specifiers).
unit_escape(Text) ->
    lists:flatmap(fun($\\) -> "\\\\"; ($") -> "\\\""; ($%) -> "%%"; (C) -> [C] end, lists:flatten(Text)).

%% Across filesystems a rename fails; copy then.
move(From, To) ->
    case file:rename(From, To) of
        ok -> ok;
        {error, exdev} ->
            case file:copy(From, To) of
                {ok, _} -> ok = file:delete(From);
                {error, E} -> throw({write, To, E})
            end;
        {error, E} -> throw({write, To, E})
    end.

%% @doc One sentence per failure.
-spec format_error(term()) -> string().
format_error({?MODULE, R}) -> format_error(R);
format_error({not_a_release, D}) -> lists:flatten(io_lib:format("~ts is not a release (no releases/start_erl.data)", [D]));
format_error({bad_rel_file, F}) -> lists:flatten(io_lib:format("~ts is not a release file ({release, {Name, Vsn}, {erts, Vsn}, Apps})", [F]));
format_error({bad_rel_file, F, E}) -> lists:flatten(io_lib:format("Cannot read ~ts: ~ts", [F, fastrel_errors:consult_error(E)]));
format_error({bad_start_erl_data, F}) -> lists:flatten(io_lib:format("~ts is not \"ERTS_VSN REL_VSN\"", [F]));
format_error({no_rel_file, D}) -> lists:flatten(io_lib:format("~ts has no NAME.rel file", [D]));
format_error({no_fastrel_heart, D}) ->
    lists:flatten(io_lib:format("~ts does not run fastrel's heart (OTP's does not notify systemd): run `fastrel mix heart ~ts' first", [D, D]));
format_error({not_a_mix_release, D}) -> lists:flatten(io_lib:format("~ts is not a mix release (no releases/VSN/elixir)", [D]));
format_error({no_erts_bin_line, F}) -> lists:flatten(io_lib:format("~ts has no `ERTS_BIN=' line to point at fastrel's programs", [F]));
format_error({broken_block, F}) -> lists:flatten(io_lib:format("~ts has a fastrel block without its end marker", [F]));
format_error({tar, Nested}) -> fastrel_errors:nested(Nested);
format_error({overlay, Nested}) -> fastrel_errors:nested(Nested);
format_error({write, F, Why}) -> lists:flatten(io_lib:format("Cannot write ~ts: ~ts", [F, file:format_error(Why)]));
format_error(Other) -> lists:flatten(io_lib:format("~tp", [Other])).
