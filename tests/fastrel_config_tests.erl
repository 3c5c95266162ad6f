%% SPDX-License-Identifier: Apache-2.0
%% fastrel_config: the relx configuration read once, with explicit defaults and checked values.
-module(fastrel_config_tests).

-include_lib("eunit/include/eunit.hrl").
-include("../erl_src/fastrel_config.hrl").

load(Terms) -> load(Terms, undefined).
load(Terms, Wanted) ->
    {ok, R} = fastrel_config:load(Terms, Wanted),
    R.

error_text(Terms) ->
    {error, E} = fastrel_config:load(Terms, undefined),
    lists:flatten(fastrel_config:format_error(E)).

defaults_are_relx_test() ->
    R = load([{release, {r, "1"}, [kernel]}]),
    ?assertMatch(#relx{name = r, vsn = "1", goals = [kernel], dev_mode = false, include_erts = false,
                       system_libs = true, include_src = undefined, debug_info = keep,
                       generate_start_script = true, vm_args = undefined, sys_config = undefined,
                       overlay = [], overlay_vars = [], exclude_apps = [], lib_dirs = [],
                       src_tests = true, exref = false, warnings_as_errors = false, unknown = []}, R).

modes_expand_in_place_and_later_keys_win_test() ->
    Prod = load([{release, {r, "1"}, []}, {mode, prod}]),
    ?assertMatch(#relx{include_src = false, debug_info = strip, include_erts = true, dev_mode = false}, Prod),
    ?assertMatch(#relx{include_erts = false, debug_info = strip},
                 load([{release, {r, "1"}, []}, {mode, prod}, {include_erts, false}])),
    ?assertMatch(#relx{include_erts = true, dev_mode = true},
                 load([{release, {r, "1"}, []}, {dev_mode, true}, {include_erts, true}])).

%% As relx 4.7 (checked with rebar3 release --all): a release's own overlay replaces the
%% global one, which extend does not pass on either.
per_release_keys_override_and_overlays_replace_test() ->
    Terms = [{release, {a, "1"}, [kernel]},
             {release, {b, "2", {extend, {a, "1"}}}, [sasl], [{include_erts, "/opt/otp"}, {overlay, [{mkdir, "y"}]}]},
             {release, {c, "1", {extend, a}}, [sasl]},
             {overlay, [{mkdir, "x"}]}, {include_erts, true}],
    ?assertMatch(#relx{name = a, include_erts = true, overlay = [{mkdir, "x"}]}, load(Terms)),
    ?assertMatch(#relx{name = b, goals = [kernel, sasl], include_erts = "/opt/otp",
                       overlay = [{mkdir, "y"}]}, load(Terms, b)),
    ?assertMatch(#relx{name = c, goals = [kernel, sasl], include_erts = true, overlay = [{mkdir, "x"}]}, load(Terms, c)),
    ?assertMatch(#relx{name = b}, load(Terms ++ [{default_release, {b, "2"}}])),
    %% rebar3 merges the global overlays into one, the later entry first.
    ?assertMatch(#relx{overlay = [{mkdir, "y"}, {mkdir, "x"}]},
                 load([{overlay, [{mkdir, "x"}]}, {release, {a, "1"}, []}, {overlay, [{mkdir, "y"}]}])).

extend_merges_goals_by_application_and_chains_test() ->
    Terms = [{release, {a, "1"}, [kernel, {stdlib, load}, sasl]},
             {release, {b, "1", {extend, a}}, [{sasl, temporary}, runtime_tools]},
             {release, {c, "1", {extend, b}}, [{kernel, permanent}]}],
    ?assertMatch(#relx{goals = [kernel, {stdlib, load}, {sasl, temporary}, runtime_tools]}, load(Terms, b)),
    ?assertMatch(#relx{goals = [{kernel, permanent}, {stdlib, load}, {sasl, temporary}, runtime_tools]}, load(Terms, c)),
    %% relx looks the extended release up by name and version, among those before it.
    ?assertEqual("Release b extends a \"1\", which is not configured before it in the relx configuration",
                 error_text([{release, {b, "1", {extend, a}}, []}, {release, {a, "1"}, []}])),
    ?assertEqual("Release b extends a \"2\", which is not configured before it in the relx configuration",
                 error_text([{release, {a, "1"}, []}, {release, {b, "1", {extend, {a, "2"}}}, []}])),
    %% A bare name of another version (a crash in relx): the last one before.
    ?assertMatch(#relx{goals = [stdlib, sasl]},
                 load([{release, {a, "1"}, [kernel]}, {release, {a, "2"}, [stdlib]}, {release, {b, "3", {extend, a}}, [sasl]}], b)).

several_releases_test() ->
    Terms = [{release, {a, "1.9"}, [kernel]}, {release, {b, "1"}, [sasl]}, {release, {a, "1.10"}, [stdlib]}],
    ?assertEqual({ok, [a, b]}, fastrel_config:release_names(Terms)),
    %% A name given twice: its highest version, as relx.
    ?assertMatch(#relx{vsn = "1.10", goals = [stdlib]}, load(Terms, a)),
    ?assertMatch({error, {fastrel_config, no_release_configured}}, fastrel_config:release_names([{include_erts, true}])).

reproducible_key_test() ->
    ?assertMatch(#relx{reproducible = undefined}, load([{release, {r, "1"}, []}])),
    ?assertMatch(#relx{reproducible = true}, load([{release, {r, "1"}, []}, {reproducible, true}])),
    ?assertEqual("relx configuration: 1 is not a valid value for reproducible (true or false)",
                 error_text([{release, {r, "1"}, []}, {reproducible, 1}])).

overlay_vars_take_one_file_or_a_list_test() ->
    ?assertMatch(#relx{overlay_vars = ["v.config"]}, load([{release, {r, "1"}, []}, {overlay_vars, "v.config"}])),
    ?assertMatch(#relx{overlay_vars = ["a", "b"]}, load([{release, {r, "1"}, []}, {overlay_vars, ["a", "b"]}])).

unknown_keys_are_named_not_fatal_test() ->
    ?assertMatch(#relx{unknown = [upfrom]},
                 load([{release, {r, "1"}, []}, {upfrom, "0"}, {extended_start_script_hooks, []},
                       {extended_start_script, true}, {include_nodetool, true}])).

ill_typed_values_are_one_sentence_naming_the_key_test() ->
    ?assertEqual("relx configuration: 42 is not a valid value for include_erts (true, false or a directory)",
                 error_text([{release, {r, "1"}, []}, {include_erts, 42}])),
    ?assertEqual("relx configuration: fast is not a valid value for mode (dev, prod or minimal)",
                 error_text([{release, {r, "1"}, []}, {mode, fast}])),
    ?assertEqual("relx configuration: [app,\"x\"] is not a valid value for exclude_apps (a list of application names)",
                 error_text([{release, {r, "1"}, []}, {exclude_apps, [app, "x"]}])),
    ?assertEqual("relx configuration: yes is not a valid value for src_tests (true or false)",
                 error_text([{release, {r, "1"}, []}, {src_tests, yes}])).

releases_test() ->
    ?assertEqual("No {release, ...} in the relx configuration", error_text([{include_erts, true}])),
    ?assertEqual("No release named b in the relx configuration",
                 lists:flatten(fastrel_config:format_error(element(2, fastrel_config:load([{release, {a, "1"}, []}], b))))),
    ?assertEqual("Release b extends c \"1\", which is not configured before it in the relx configuration",
                 error_text([{release, {b, "1", {extend, c}}, []}])),
    ?assertEqual("The relx configuration is not a list: x",
                 lists:flatten(fastrel_config:format_error(element(2, fastrel_config:load(x, undefined))))).
