# The node-gyp route to the CPU addon (build/Release/symtensor.node), for those who build with
# node-gyp.  The default build is CMakeLists.txt (cmake-js); both take their source lists from
# native/sources.json, so they build the same files.
#
# OpenBLAS is used when its cblas.h and library are found (Debian: libopenblas-dev), otherwise the
# built-in GEMM.  Environment knobs at configure time:
#   SYMTENSOR_NO_BLAS=1    ignore OpenBLAS
#   SYMTENSOR_PORTABLE=1   generic x86-64 code (no -march=native; hot kernels dispatch at run time)
#
# This route does not build the optional MPI addon (symtensor_mpi.node, native/sources.json's "mpi"
# list): st.distributed then runs single-process only.  For multi-process training build with
# cmake-js, which builds it wherever CMake finds MPI.
{
  "variables": {
    # "<include dir>" of an OpenBLAS installation whose library sits next to it, or "".
    "st_openblas_include%": "<!(node -p \"(function(w){var f=require('fs'),e=process.env,t={x64:'x86_64',arm64:'aarch64',ppc64:'powerpc64le',s390x:'s390x'}[process.arch]+'-linux-gnu',c=[['/usr/include/'+t+'/openblas-pthread','/usr/lib/'+t+'/openblas-pthread'],['/usr/include/'+t+'/openblas-openmp','/usr/lib/'+t+'/openblas-openmp'],['/usr/include/'+t+'/openblas-serial','/usr/lib/'+t+'/openblas-serial'],['/usr/include/openblas','/usr/lib64'],['/usr/include/openblas','/usr/lib'],['/usr/local/include','/usr/local/lib'],['/opt/homebrew/opt/openblas/include','/opt/homebrew/opt/openblas/lib'],['/usr/local/opt/openblas/include','/usr/local/opt/openblas/lib']].find(function(p){return f.existsSync(p[0]+'/cblas.h')&&['.so','.dylib','.a'].some(function(s){return f.existsSync(p[1]+'/libopenblas'+s)})});return e.SYMTENSOR_NO_BLAS&&e.SYMTENSOR_NO_BLAS!=='0'?'':c?c[w]:''})(0)\")",
    # The matching library directory (same search, second element).
    "st_openblas_libdir%": "<!(node -p \"(function(w){var f=require('fs'),e=process.env,t={x64:'x86_64',arm64:'aarch64',ppc64:'powerpc64le',s390x:'s390x'}[process.arch]+'-linux-gnu',c=[['/usr/include/'+t+'/openblas-pthread','/usr/lib/'+t+'/openblas-pthread'],['/usr/include/'+t+'/openblas-openmp','/usr/lib/'+t+'/openblas-openmp'],['/usr/include/'+t+'/openblas-serial','/usr/lib/'+t+'/openblas-serial'],['/usr/include/openblas','/usr/lib64'],['/usr/include/openblas','/usr/lib'],['/usr/local/include','/usr/local/lib'],['/opt/homebrew/opt/openblas/include','/opt/homebrew/opt/openblas/lib'],['/usr/local/opt/openblas/include','/usr/local/opt/openblas/lib']].find(function(p){return f.existsSync(p[0]+'/cblas.h')&&['.so','.dylib','.a'].some(function(s){return f.existsSync(p[1]+'/libopenblas'+s)})});return e.SYMTENSOR_NO_BLAS&&e.SYMTENSOR_NO_BLAS!=='0'?'':c?c[w]:''})(1)\")",
    "st_portable%": "<!(node -p \"process.env.SYMTENSOR_PORTABLE&&process.env.SYMTENSOR_PORTABLE!=='0'?'yes':'no'\")"
  },
  "targets": [
    {
      "target_name": "symtensor",
      "sources": [
        "<!@(node -p \"var s=require('./native/sources.json');s.core.concat(s.binding).join(' ')\")"
      ],
      "include_dirs": [
        "native/include",
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++20", "-std=c++20", "-std=c++17", "-O2", "-O0"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fvisibility=hidden", "-pthread"],
      "cflags_cc": ["-std=gnu++17", "-fexceptions", "-frtti", "-fvisibility-inlines-hidden"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "GCC_ENABLE_CPP_RTTI": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "gnu++17",
        "GCC_OPTIMIZATION_LEVEL": "3",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"] }
      },
      "conditions": [
        ["st_openblas_include!='' and st_openblas_libdir!=''", {
          "defines": ["ST_HAVE_OPENBLAS=1"],
          "include_dirs": ["<(st_openblas_include)"],
          "libraries": ["-L<(st_openblas_libdir)", "-lopenblas"],
          "conditions": [
            ["OS=='mac'", { "libraries": ["-Wl,-rpath,<(st_openblas_libdir)"] }]
          ]
        }],
        ["target_arch=='x64' and st_portable=='no' and OS!='win'", {
          "cflags": ["-march=native"],
          "xcode_settings": { "OTHER_CFLAGS": ["-march=native"] }
        }],
        ["target_arch=='x64' and st_portable=='yes'", {
          "defines": ["ST_PORTABLE=1"],
          "cflags": ["-mtune=generic"]
        }]
      ]
    }
  ]
}
